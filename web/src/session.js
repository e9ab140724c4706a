// Who is signed in: the user, their permissions and the module definitions they may use, loaded
// once after login or on a reload (GET /api/v1/auth/me returns the session's CSRF token again).
import { reactive } from 'vue'
import { get, post, setCsrfToken } from './api.js'

export const session = reactive({
  user: null,
  permissions: [],
  modules: [],
  loaded: false
})

export async function loadSession() {
  try {
    const me = await get('/api/v1/auth/me', undefined, { quiet: true, noRedirect: true })
    setCsrfToken(me.csrf_token)
    session.user = me
    session.permissions = me.permissions || []
    session.loaded = true
    if (!me.must_change_password) {
      const modules = await get('/api/v1/modules', undefined, { quiet: true })
      session.modules = Array.isArray(modules) ? modules : modules.modules || []
    }
    return true
  } catch {
    session.user = null
    session.loaded = true
    return false
  }
}

export async function login(username, password) {
  const result = await post('/api/v1/auth/login', { user: username, password }, { quiet: true, noRedirect: true })
  setCsrfToken(result.csrf_token)
  return loadSession()
}

export async function logout() {
  try { await post('/api/v1/auth/logout', undefined, { quiet: true, noRedirect: true }) } catch { /* already gone */ }
  setCsrfToken('')
  session.user = null
  session.permissions = []
  session.modules = []
}

// The same matching as sifa_permission_match (src/auth/roles.c): "*", "<ns>.*" (anything below
// ns), "*.<action>" (that action of any business module, never of a system namespace). A read-only
// role (inspectors) is granted no write whatever its patterns say. The server decides; this only
// hides buttons that would be refused.
const SYSTEM_NAMESPACES = ['system', 'users', 'orgs', 'audit', 'tokens', 'modules', 'self', 'files', 'roles', 'sessions', 'reports']

export function permissionMatch(pattern, permission) {
  if (pattern === '*' || pattern === permission) return true
  if (pattern.endsWith('.*')) return permission.length > pattern.length - 1 && permission.startsWith(pattern.slice(0, -1))
  if (pattern.startsWith('*.')) {
    const dot = permission.indexOf('.')
    if (dot < 0 || permission.slice(dot + 1) !== pattern.slice(2)) return false
    return !SYSTEM_NAMESPACES.includes(permission.slice(0, dot))
  }
  return false
}

function isWrite(permission) {
  const dot = permission.indexOf('.')
  if (dot < 0) return true
  const action = permission.slice(dot + 1)
  return !(action === 'read' || action === 'export' || action === 'personal' || permission === 'audit.read' || permission === 'modules.read')
}

export function can(permission) {
  if (session.user && session.user.read_only && isWrite(permission)) return false
  return session.permissions.some((p) => permissionMatch(p, permission))
}
