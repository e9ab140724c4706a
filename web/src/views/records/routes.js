// The business-record pages, the same for every module and built from its definition: the list
// (with drill-down links, see listQuery.js), the record, and the form for a new or changed record.
// Their menu entries come from GET /api/v1/modules (Layout.vue), so there are none here.
export default {
  routes: [
    { path: 'm/:code', name: 'records', component: () => import('./RecordList.vue'), meta: { title: '业务记录' } },
    { path: 'm/:code/new', name: 'record-new', component: () => import('./RecordEdit.vue'), meta: { title: '新增记录' } },
    { path: 'm/:code/:id(\\d+)', name: 'record', component: () => import('./RecordDetail.vue'), meta: { title: '记录详情' } },
    { path: 'm/:code/:id(\\d+)/edit', name: 'record-edit', component: () => import('./RecordEdit.vue'), meta: { title: '修改记录' } }
  ],
  menu: []
}
