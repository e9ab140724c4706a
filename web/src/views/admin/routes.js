// 系统管理 and 个人中心: the admin console's pages (as in RuoYi) and the user's own account page.
// Each page checks its own permission and shows a 403 message when opened without it (a deep
// link or bookmark); the menu shows an entry only to those who hold its permission.
// 组织机构 is readable by everyone signed in, but sits in the menu for org managers only.
const section = '系统管理'

export default {
  routes: [
    { path: 'admin/users', name: 'admin-users', component: () => import('./UsersPage.vue'), meta: { title: '用户管理' } },
    { path: 'admin/orgs', name: 'admin-orgs', component: () => import('./OrgsPage.vue'), meta: { title: '组织机构' } },
    { path: 'admin/roles', name: 'admin-roles', component: () => import('./RolesPage.vue'), meta: { title: '角色权限' } },
    { path: 'admin/sessions', name: 'admin-sessions', component: () => import('./SessionsPage.vue'), meta: { title: '在线用户' } },
    { path: 'admin/audit', name: 'admin-audit', component: () => import('./AuditLogPage.vue'), meta: { title: '操作日志' } },
    { path: 'admin/login-log', name: 'admin-login-log', component: () => import('./LoginLogPage.vue'), meta: { title: '登录日志' } },
    { path: 'admin/system', name: 'admin-system', component: () => import('./SystemPage.vue'), meta: { title: '系统参数' } },
    { path: 'me', name: 'profile', component: () => import('./ProfilePage.vue'), meta: { title: '个人中心' } }
  ],
  menu: [
    { path: '/admin/users', title: '用户管理', icon: 'Setting', section, permission: 'users.manage' },
    { path: '/admin/orgs', title: '组织机构', icon: 'Setting', section, permission: 'orgs.manage' },
    { path: '/admin/roles', title: '角色权限', icon: 'Setting', section, permission: 'users.manage' },
    { path: '/admin/sessions', title: '在线用户', icon: 'Setting', section, permission: 'users.manage' },
    { path: '/admin/audit', title: '操作日志', icon: 'Setting', section, permission: 'audit.read' },
    { path: '/admin/login-log', title: '登录日志', icon: 'Setting', section, permission: 'audit.read' },
    { path: '/admin/system', title: '系统参数', icon: 'Setting', section, permission: 'system.admin' },
    { path: '/me', title: '账号与安全', icon: 'User', section: '个人中心' }
  ]
}
