// Shared by the 系统管理 and 个人中心 pages: Chinese labels for the server's codes (data scopes, org
// kinds, audit actions, permissions), time formatting, the org list as a tree, a generated
// one-time password that passes the server's rules, and copying to the clipboard.
import { session } from '../../session.js'
import { get } from '../../api.js'

// 数据范围, as in roles/roles.yaml (src/auth/roles.c scope_names)
export const SCOPE_LABELS = {
  all: '全部',
  custom: '自定',
  own_org: '本部门',
  org_and_below: '本部门及以下',
  self: '仅本人'
}

// org_kinds in src/auth/accounts.c
export const ORG_KINDS = [
  ['city', '市(县级市)'], ['district', '区县'], ['town', '镇'], ['street', '街道'], ['village', '村'],
  ['community', '社区'], ['bureau', '局'], ['department', '科室/部门'], ['judicial_office', '司法所'],
  ['mediation_committee', '人民调解委员会'], ['law_firm', '律师事务所'], ['gov_unit', '政府部门'],
  ['enterprise', '企业'], ['other', '其他']
]
const ORG_KIND_MAP = Object.fromEntries(ORG_KINDS)
export const orgKindLabel = (kind) => ORG_KIND_MAP[kind] || kind || ''

// Actions the server writes to the audit log (grep sifa_api_audit in src/). 登录日志 shows the
// auth.* ones that are about signing in and out.
export const LOGIN_ACTIONS = [
  ['auth.login', '登录成功'],
  ['auth.login_failed', '登录失败'],
  ['auth.lockout', '账号锁定'],
  ['auth.logout', '退出登录']
]
export const AUDIT_ACTIONS = [
  ...LOGIN_ACTIONS,
  ['auth.token_create', '创建访问令牌'],
  ['auth.token_revoke', '撤销访问令牌'],
  ['user.create', '新增用户'],
  ['user.update', '修改用户'],
  ['user.password_reset', '重置密码'],
  ['user.password_change', '修改本人密码'],
  ['session.revoke', '强制下线'],
  ['setting.update', '修改系统参数'],
  ['org.create', '新增机构'],
  ['org.update', '修改机构'],
  ['org.import', '导入机构'],
  ['record.create', '新增记录'],
  ['record.update', '修改记录'],
  ['record.delete', '删除记录'],
  ['record.transition', '流转记录'],
  ['record.change', '变更记录'],
  ['record.import', '导入记录'],
  ['record.read', '查阅记录'],
  ['record.read_personal', '查阅个人信息'],
  ['report.generate', '生成报告'],
  ['report.download', '下载报告'],
  ['report.passage', '编辑报告段落'],
  ['stats.export', '导出统计'],
  ['audit.export', '导出日志']
]
const ACTION_MAP = Object.fromEntries(AUDIT_ACTIONS)
export const actionLabel = (action) => ACTION_MAP[action] || action

// Permissions of the system namespaces in Chinese; business ones are "<module name> · <action>".
const SYSTEM_PERMISSIONS = {
  '*': '全部权限',
  'system.admin': '系统参数与维护',
  'users.manage': '用户管理',
  'orgs.manage': '组织机构管理',
  'audit.read': '查阅审计日志',
  'modules.read': '查看业务模块',
  'tokens.manage': '管理所有访问令牌',
  'reports.generate': '生成年度报告',
  'reports.edit': '编辑报告段落'
}
const PERMISSION_ACTIONS = {
  '*': '全部操作', read: '查看', create: '新增', update: '修改', delete: '删除', export: '导出',
  personal: '查看个人信息原文', 'transition.*': '全部流转'
}
export function permissionLabel(permission) {
  if (SYSTEM_PERMISSIONS[permission]) return SYSTEM_PERMISSIONS[permission]
  const dot = permission.indexOf('.')
  if (dot < 0) return permission
  const ns = permission.slice(0, dot)
  const action = permission.slice(dot + 1)
  const module = ns === '*' ? '所有业务' : (session.modules.find((m) => m.code === ns) || {}).name || ns
  const actionText = PERMISSION_ACTIONS[action] || (action.startsWith('transition.') ? '流转:' + action.slice(11) : action)
  return module + ' · ' + actionText
}

const pad = (n) => String(n).padStart(2, '0')
// A time from the server (ISO text, or seconds since the epoch) as local "YYYY-MM-DD HH:mm:ss".
export function formatTime(value) {
  if (value === null || value === undefined || value === '') return ''
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value)
  if (isNaN(d.getTime())) return String(value)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

// A one-time password for a new user or a reset: 3 groups of 4 characters without look-alikes
// (no 0/O, 1/l/I), at least one upper, lower and digit. Random enough that the server's rules
// (10+ characters, not common, no runs, no user name) hold; the server checks again anyway.
export function generatePassword() {
  const upper = 'ABCDEFGHJKLMNPQRSTUVWXYZ', lower = 'abcdefghijkmnpqrstuvwxyz', digits = '23456789'
  const all = upper + lower + digits
  for (;;) {
    const bytes = new Uint8Array(12)
    crypto.getRandomValues(bytes)
    const chars = [...bytes].map((b) => all[b % all.length])
    const text = chars.join('')
    if (/[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text)) {
      return [text.slice(0, 4), text.slice(4, 8), text.slice(8, 12)].join('-')
    }
  }
}

// The org units (GET /api/v1/orgs, one flat list) as a tree for el-table / el-tree-select, and a
// lookup by code. Loaded once per page visit; 500-odd units are small.
export async function loadOrgs() {
  const result = await get('/api/v1/orgs')
  return buildOrgTree(result.items || [])
}

export function buildOrgTree(items) {
  const byCode = new Map()
  for (const o of items) byCode.set(o.code, { ...o, children: [] })
  const roots = []
  for (const o of byCode.values()) {
    const parent = o.parent ? byCode.get(o.parent) : null
    if (parent) parent.children.push(o)
    else roots.push(o)
  }
  for (const o of byCode.values()) if (!o.children.length) delete o.children
  return { roots, byCode }
}

// "/330282/330282001/" as "慈溪市 / 浒山街道"
export function pathNames(path, byCode) {
  if (!path) return ''
  return path.split('/').filter(Boolean).map((c) => (byCode.get(c) || {}).name || c).join(' / ')
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}

// A [start, end] range of Dates as the audit API's filters: since (inclusive) and until (exclusive,
// so the end's own second is included), both UTC "YYYY-MM-DDTHH:MM:SS.mmmZ".
export function rangeQuery(range) {
  if (!range || !range[0] || !range[1]) return {}
  const start = new Date(range[0])
  const end = new Date(new Date(range[1]).getTime() + 1000)
  return { since: start.toISOString(), until: end.toISOString() }
}

// The query parameters GET /api/v1/audit takes, from the server's OpenAPI document (public): a
// newer sifa filters by action_prefix, target, address and keyword too (and refuses parameters it
// does not know); the pages offer those filters only when the server has them. Asked once.
// Every sifa takes actor, action, since, until and paging (older ones list no parameters at all).
const BASE_AUDIT_PARAMS = ['actor', 'action', 'since', 'until', 'page', 'page_size']
let auditParams = null
export function auditQueryParams() {
  if (!auditParams) {
    auditParams = get('/api/openapi.json', undefined, { quiet: true })
      .then((doc) => (((doc.paths || {})['/api/v1/audit'] || {}).get?.parameters || []).map((p) => p.name))
      .catch(() => [])
      .then((names) => new Set([...BASE_AUDIT_PARAMS, ...names]))
  }
  return auditParams
}
