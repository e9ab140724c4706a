// The statistics and report pages (统计与报告): figures with drill-down and charts, the declared
// tables, the annual report and its passages, and the report checker. Each page is its own chunk.
const section = '统计与报告'

export default {
  routes: [
    { path: 'reports/indicators', name: 'reports-indicators', component: () => import('./IndicatorsPage.vue'), meta: { title: '统计指标' } },
    { path: 'reports/tables', name: 'reports-tables', component: () => import('./TablesPage.vue'), meta: { title: '统计报表' } },
    { path: 'reports/annual', name: 'reports-annual', component: () => import('./AnnualReportPage.vue'), meta: { title: '年度报告', permission: 'reports.generate' } },
    { path: 'reports/passages', name: 'reports-passages', component: () => import('./PassagesPage.vue'), meta: { title: '叙述段落', permission: 'reports.generate' } },
    { path: 'reports/check', name: 'reports-check', component: () => import('./CheckReportPage.vue'), meta: { title: '报告核查' } }
  ],
  menu: [
    { path: '/reports/indicators', title: '统计指标', icon: 'DataAnalysis', section },
    { path: '/reports/tables', title: '统计报表', icon: 'Grid', section },
    { path: '/reports/annual', title: '年度报告', icon: 'Document', section, permission: 'reports.generate' },
    { path: '/reports/passages', title: '叙述段落', icon: 'EditPen', section, permission: 'reports.generate' },
    { path: '/reports/check', title: '报告核查', icon: 'DocumentChecked', section }
  ]
}
