// The admin console (系统管理) and 个人中心 in a real browser: users, org units, roles, online users
// with forced logout, the operation and login logs, system parameters, one's own password and API
// tokens, and what a user without the permissions sees. Names are unique per run (the tests share
// one database with the other test files).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { launch, loginAs, BASE, PASSWORD, watchErrors, assertNoPageErrors, apiCall } from './lib.mjs'

// One signed-in admin for the whole file (each login costs a password hash); each test opens its
// own tab in it, watched for page errors.
let browser, adminContext
before(async () => {
  browser = await launch()
  adminContext = (await loginAs(browser, 'admin')).context
})
after(async () => { await browser?.close() })

async function adminTab() {
  const page = await adminContext.newPage()
  watchErrors(page)
  await page.goto(BASE + '/healthz') // an origin for apiCall before the test opens its page
  return { page, context: { close: () => page.close() } }
}

const run = Date.now().toString(36)
const el = (page, name) => page.locator(`[data-test="${name}"]`)

// Element Plus puts a data-test given to el-input on the <input> itself, and one given to el-select
// on its root: these click the select's box wherever the locator points.
async function openSelect(select) {
  const inner = select.locator('.el-select__wrapper')
  if (await inner.count()) await inner.first().click()
  else await select.click()
}

// Picks an option of an el-select (its dropdown is teleported to the body).
async function choose(page, select, text) {
  await openSelect(select)
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
}

// Picks an org unit in an el-tree-select, typing to filter the tree first.
async function chooseOrg(page, select, name) {
  await openSelect(select)
  await select.locator('input').first().fill(name)
  await page.locator('.el-tree-node__content:visible', { hasText: name }).first().click()
}

async function confirmBox(page) {
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await page.locator('.el-message-box').waitFor({ state: 'hidden' })
}

async function formItem(form, label) {
  return form.locator('.el-form-item', { has: form.page().locator('.el-form-item__label', { hasText: label }) })
}

// A login from Node (no browser): the response status and body.
async function nodeLogin(user, password) {
  const r = await fetch(BASE + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }) })
  return { status: r.status, json: await r.json().catch(() => null) }
}

test('an admin adds a town office user through the form; the one-time password works once, must be changed, and disabling ends the user\'s session', async () => {
  const admin = await adminTab()
  const name = 'e2eu' + run
  await admin.page.goto(BASE + '/#/admin/users')
  await el(admin.page, 'user-table').waitFor()
  await el(admin.page, 'user-add').click()
  const form = el(admin.page, 'user-form')
  await form.locator('input[name="name"]').fill(name)
  await form.locator('input[name="display_name"]').fill('测试用户' + run)
  await chooseOrg(admin.page, await formItem(form, '所属机构'), '浒山街道司法所')
  await choose(admin.page, await formItem(form, '角色'), '司法所工作人员')
  await form.locator('input[name="display_name"]').click() // closes the multi-select's dropdown
  await el(admin.page, 'user-save').click()
  const secret = el(admin.page, 'one-time-secret')
  await secret.waitFor()
  const oneTime = await secret.inputValue()
  assert.match(oneTime, /^[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}$/)
  await el(admin.page, 'one-time-close').click()
  const created = await apiCall(admin.page, 'GET', '/api/v1/users')
  const user = created.json.items.find((u) => u.name === name)
  assert.ok(user, 'the new user is listed by the API')
  assert.deepEqual([user.org, user.roles, user.must_change_password], ['330282001_sfs', ['judicial_office'], true])

  // the new user: one-time password, forced change, then into the app with a town office's menu
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  watchErrors(page)
  await page.goto(BASE + '/#/login')
  await page.locator('input[name="user"]').fill(name)
  await page.locator('input[name="password"]').fill(oneTime)
  await page.locator('[data-test="login"]').click()
  const newPassword = 'Fresh-' + run + '-Pass9'
  await page.locator('input[name="new_password"]').fill(newPassword)
  await page.locator('input[name="again"]').fill(newPassword)
  await page.locator('[data-test="change-password"]').click()
  await page.locator('[data-test="user-menu"]').waitFor()
  await page.getByText('人民调解', { exact: true }).first().waitFor()
  assert.equal(await page.getByText('系统管理', { exact: true }).count(), 0)
  assert.equal((await nodeLogin(name, oneTime)).status, 401, 'the one-time password no longer works')

  // the admin searches for the user and disables them: their next call is refused
  await el(admin.page, 'user-filter-keyword').fill(name)
  await el(admin.page, 'search').click()
  await el(admin.page, 'user-row-' + name).locator('[data-test="user-disable"]').click()
  await confirmBox(admin.page)
  await el(admin.page, 'user-row-' + name).locator('[data-test="user-enable"]').waitFor()
  assert.equal((await apiCall(page, 'GET', '/api/v1/auth/me')).status, 401)
  assert.equal((await nodeLogin(name, newPassword)).status, 401)

  // enabled again and the password reset: a new one-time password, shown once, works
  await el(admin.page, 'user-row-' + name).locator('[data-test="user-enable"]').click()
  await confirmBox(admin.page)
  await el(admin.page, 'user-row-' + name).locator('[data-test="user-reset-password"]').click()
  await confirmBox(admin.page)
  await secret.waitFor()
  const reset = await secret.inputValue()
  assert.notEqual(reset, oneTime)
  const relogin = await nodeLogin(name, reset)
  assert.equal(relogin.status, 200)
  assert.equal(relogin.json.must_change_password, true)

  assertNoPageErrors(admin.page)
  assertNoPageErrors(page)
  await context.close()
  await admin.context.close()
})

test('an admin changes a user\'s display name and org in the edit form', async () => {
  const admin = await adminTab()
  const name = 'e2ee' + run
  const r = await apiCall(admin.page, 'POST', '/api/v1/users', { name, display_name: '改前' + run, org: '330282001_sfs', roles: ['mediator'], password: 'Edit-' + run + '-Pass7' })
  assert.equal(r.status, 201, r.text)
  await admin.page.goto(BASE + '/#/admin/users')
  await el(admin.page, 'user-filter-keyword').fill(name)
  await el(admin.page, 'search').click()
  await el(admin.page, 'user-row-' + name).locator('[data-test="user-edit"]').click()
  const form = el(admin.page, 'user-form')
  await form.locator('input[name="display_name"]').fill('改后' + run)
  await chooseOrg(admin.page, await formItem(form, '所属机构'), '宗汉街道司法所')
  await el(admin.page, 'user-save').click()
  await form.waitFor({ state: 'hidden' })
  const u = (await apiCall(admin.page, 'GET', '/api/v1/users')).json.items.find((x) => x.name === name)
  assert.equal(u.display_name, '改后' + run)
  assert.equal(u.org, '330282002_sfs')
  assert.deepEqual(u.roles, ['mediator'])
  assertNoPageErrors(admin.page)
  await admin.context.close()
})

test('forced logout from 在线用户 ends another browser\'s session', async () => {
  const agent = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 e2e-kick-' + run
  const context = await browser.newContext({ locale: 'zh-CN', userAgent: agent })
  const page = await context.newPage()
  await page.goto(BASE + '/#/login')
  await page.locator('input[name="user"]').fill('mediation')
  await page.locator('input[name="password"]').fill(PASSWORD)
  await page.locator('[data-test="login"]').click()
  await page.locator('[data-test="user-menu"]').waitFor()

  const admin = await adminTab()
  await admin.page.goto(BASE + '/#/admin/sessions')
  const row = el(admin.page, 'session-table').locator('tr', { hasText: 'e2e-kick-' + run })
  await row.waitFor()
  // the admin's own session is tagged 当前会话 (exactly one row); the other browser's is not
  assert.equal(await el(admin.page, 'session-current').count(), 1)
  assert.equal(await row.locator('[data-test="session-current"]').count(), 0)
  await row.locator('button', { hasText: '强退' }).click()
  await confirmBox(admin.page)
  await row.waitFor({ state: 'detached' })

  await page.reload()
  await page.waitForURL(/#\/login/)
  assert.equal((await apiCall(page, 'GET', '/api/v1/auth/me')).status, 401)
  assertNoPageErrors(admin.page)
  await context.close()
  await admin.context.close()
})

test('the org tree shows 慈溪市 with its towns; a child unit added, renamed and moved through the page is what the API reports, with its history', async () => {
  const { context, page } = await adminTab()
  await page.goto(BASE + '/#/admin/orgs')
  await el(page, 'org-name-330282').waitFor()
  assert.equal(await el(page, 'org-name-330282').innerText(), '慈溪市')
  await el(page, 'org-name-330282001').waitFor()
  assert.equal(await el(page, 'org-name-330282001').innerText(), '浒山街道')
  assert.ok(await el(page, 'org-name-330282002').isVisible(), 'the towns show under the county')

  const code = '330282001_e2e' + run
  await el(page, 'org-row-330282001').locator('[data-test="org-add-child"]').click()
  const form = el(page, 'org-form')
  assert.equal(await form.locator('input[name="code"]').inputValue(), '330282001_')
  await form.locator('input[name="code"]').fill(code)
  await form.locator('input[name="org_name"]').fill('测试调解小组' + run)
  await choose(page, await formItem(form, '机构类型'), '人民调解委员会')
  await el(page, 'org-save').click()
  await form.waitFor({ state: 'hidden' })
  let org = (await apiCall(page, 'GET', '/api/v1/orgs')).json.items.find((o) => o.code === code)
  assert.ok(org, 'the new unit is in GET /api/v1/orgs')
  assert.deepEqual([org.parent, org.name, org.kind], ['330282001', '测试调解小组' + run, 'mediation_committee'])

  // found by the search, renamed, moved to another town after a confirmation
  await el(page, 'org-filter-keyword').fill('e2e' + run)
  await el(page, 'search').click()
  await el(page, 'org-name-' + code).waitFor()
  await el(page, 'org-row-' + code).locator('[data-test="org-rename"]').click()
  await page.locator('.el-message-box input').fill('改名小组' + run)
  await confirmBox(page)
  await el(page, 'org-row-' + code).locator('[data-test="org-move"]').click()
  await chooseOrg(page, page.locator('.el-dialog:visible'), '宗汉街道')
  await el(page, 'org-move-save').click()
  await confirmBox(page)
  await page.locator('.el-dialog:visible').waitFor({ state: 'hidden' })
  org = (await apiCall(page, 'GET', '/api/v1/orgs')).json.items.find((o) => o.code === code)
  assert.deepEqual([org.parent, org.name], ['330282002', '改名小组' + run])

  await el(page, 'org-row-' + code).locator('[data-test="org-history"]').click()
  const history = el(page, 'org-history-table')
  await history.locator('tbody tr').nth(2).waitFor()
  const text = await history.innerText()
  assert.match(text, /新建[\s\S]*重命名[\s\S]*移动/)
  assert.match(text, /慈溪市 \/ 宗汉街道 \/ 330282001_e2e|慈溪市 \/ 宗汉街道 \/ 改名小组/)
  assertNoPageErrors(page)
  await context.close()
})

test('the operation log finds the user.create entries the API reports; the login log shows a failed login; the chain verifies; export passes the filters', async () => {
  const unknown = 'nobody' + run
  assert.equal((await nodeLogin(unknown, 'Wrong-Pass-' + run)).status, 401)
  const { context, page } = await adminTab()
  const name = 'e2el' + run
  assert.equal((await apiCall(page, 'POST', '/api/v1/users', { name, display_name: '日志' + run, org: '330282001_sfs', roles: ['mediator'], password: 'Log-' + run + '-Pass7' })).status, 201)
  const api = await apiCall(page, 'GET', '/api/v1/audit?actor=admin&action=user.create&page_size=1')

  await page.goto(BASE + '/#/admin/audit')
  await el(page, 'audit-table').waitFor()
  await el(page, 'audit-filter-actor').fill('admin')
  await choose(page, el(page, 'audit-filter-action'), '(user.create)')
  await el(page, 'search').click()
  await page.locator('[data-test="audit-total"]', { hasText: `共 ${api.json.total} 条` }).waitFor()
  const first = el(page, 'audit-table').locator('tbody tr').first()
  assert.match(await first.innerText(), new RegExp(name))
  assert.match(await first.innerText(), /新增用户/)

  const [request, download] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/api/v1/audit/export')),
    page.waitForEvent('download'),
    el(page, 'audit-export').click()
  ])
  const url = new URL(request.url())
  assert.equal(url.searchParams.get('actor'), 'admin')
  assert.equal(url.searchParams.get('action'), 'user.create')
  assert.match(download.suggestedFilename(), /\.csv$/)

  await el(page, 'audit-verify').click()
  await el(page, 'audit-verify-ok').waitFor()
  await page.keyboard.press('Escape')

  await page.goto(BASE + '/#/admin/login-log')
  await el(page, 'audit-table').waitFor()
  await el(page, 'login-filter-user').fill(unknown)
  await el(page, 'search').click()
  await page.locator('[data-test="audit-total"]', { hasText: '共 1 条' }).waitFor()
  const row = el(page, 'audit-table').locator('tbody tr').first()
  assert.match(await row.innerText(), /登录失败/)
  assert.match(await row.innerText(), new RegExp(unknown))
  assertNoPageErrors(page)
  await context.close()
})

test('a town office has no 系统管理 menu and a deep link to an admin page shows a 403 message; the org tree is readable without edit buttons', async () => {
  const { context, page } = await loginAs(browser, 'hushan')
  await page.getByText('人民调解', { exact: true }).first().waitFor()
  assert.equal(await page.locator('.el-sub-menu__title', { hasText: '系统管理' }).count(), 0)
  assert.equal(await page.locator('.el-sub-menu__title', { hasText: '个人中心' }).count(), 1)
  for (const path of ['/admin/users', '/admin/audit', '/admin/sessions', '/admin/system']) {
    await page.goto(BASE + '/#' + path)
    await el(page, 'forbidden').waitFor()
    assert.match(await el(page, 'forbidden').innerText(), /无权访问/)
  }
  await page.goto(BASE + '/#/admin/orgs')
  await el(page, 'org-name-330282').waitFor()
  assert.equal(await el(page, 'org-add-child').count(), 0)
  assertNoPageErrors(page)
  await context.close()
})

test('the auditor sees the logs but not user management; roles show their data scopes in Chinese', async () => {
  const { context, page } = await loginAs(browser, 'inspector')
  await page.locator('.el-sub-menu__title', { hasText: '系统管理' }).click()
  await page.locator('.el-menu-item', { hasText: '登录日志' }).waitFor()
  assert.equal(await page.locator('.el-menu-item', { hasText: '操作日志' }).count(), 1)
  assert.equal(await page.locator('.el-menu-item', { hasText: '用户管理' }).count(), 0)
  await page.goto(BASE + '/#/admin/roles')
  await el(page, 'role-scope-admin').waitFor()
  const scopes = {}
  for (const role of ['admin', 'mediator', 'hotline_operator', 'judicial_office']) scopes[role] = await el(page, 'role-scope-' + role).innerText()
  assert.deepEqual(scopes, { admin: '全部', mediator: '仅本人', hotline_operator: '本部门', judicial_office: '本部门及以下' })
  const roles = await apiCall(page, 'GET', '/api/v1/roles')
  assert.equal(await el(page, 'role-table').locator('.el-table__body tbody tr.el-table__row').count(), roles.json.items.length)
  assertNoPageErrors(page)
  await context.close()
})

test('system parameters: add and change one; the integrity check passes', async () => {
  const { context, page } = await adminTab()
  await page.goto(BASE + '/#/admin/system')
  await el(page, 'setting-add').click()
  const key = 'e2e.p' + run
  const form = el(page, 'setting-form')
  await form.locator('input[name="key"]').fill(key)
  await form.locator('textarea[name="value"]').fill('慈溪市司法局')
  await el(page, 'setting-save').click()
  await el(page, 'setting-edit-' + key).click()
  await form.locator('textarea[name="value"]').fill('慈溪市司法局(测试)')
  await el(page, 'setting-save').click()
  await form.waitFor({ state: 'hidden' })
  const got = await apiCall(page, 'GET', '/api/v1/system/settings/' + key)
  assert.equal(got.json.value, '慈溪市司法局(测试)')

  await page.locator('.el-tabs__item', { hasText: '系统信息' }).click()
  await el(page, 'integrity-check').click()
  await el(page, 'integrity-result').waitFor({ timeout: 30000 })
  assert.match(await el(page, 'integrity-result').innerText(), /完整/)
  assertNoPageErrors(page)
  await context.close()
})

test('个人中心: an API token created on the page works as a Bearer token until revoked; the own password change takes effect', async () => {
  const admin = await adminTab()
  const name = 'e2et' + run
  const first = 'Tok-' + run + '-Pass7'
  assert.equal((await apiCall(admin.page, 'POST', '/api/v1/users', { name, display_name: '令牌' + run, org: '330282001_sfs', roles: ['judicial_office'], password: first })).status, 201)
  await admin.context.close()
  // the first login's forced change, done through the API to keep this test on 个人中心
  const login = await fetch(BASE + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: name, password: first }) })
  const cookie = login.headers.get('set-cookie').split(';')[0]
  const { csrf_token: csrf } = await login.json()
  const second = 'Tok-' + run + '-Next8'
  const changed = await fetch(BASE + '/api/v1/auth/password', { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf }, body: JSON.stringify({ old_password: first, new_password: second }) })
  assert.equal(changed.status, 200)

  const { context, page } = await loginAs(browser, name, second)
  await page.locator('.el-sub-menu__title', { hasText: '个人中心' }).click()
  await page.locator('.el-menu-item', { hasText: '账号与安全' }).click()
  await el(page, 'token-table').waitFor()
  await el(page, 'token-add').click()
  const form = el(page, 'token-form')
  await form.locator('input[name="token_name"]').fill('同步' + run)
  await choose(page, el(page, 'token-scopes'), '(mediation_case.read)')
  await form.locator('input[name="token_name"]').click() // closes the multi-select's dropdown
  await el(page, 'token-save').click()
  const secret = el(page, 'one-time-secret')
  await secret.waitFor()
  const token = await secret.inputValue()
  await el(page, 'one-time-close').click()
  const me = () => fetch(BASE + '/api/v1/auth/me', { headers: { Authorization: 'Bearer ' + token } })
  const ok = await me()
  assert.equal(ok.status, 200)
  assert.equal((await ok.json()).name, name)

  await el(page, 'token-revoke-同步' + run).click()
  await confirmBox(page)
  await el(page, 'token-revoke-同步' + run).waitFor({ state: 'detached' })
  assert.equal((await me()).status, 401)

  // own password: a wrong old one is refused with the server's message; the right one works
  const pw = el(page, 'password-form')
  const third = 'Tok-' + run + '-Last9'
  await pw.locator('input[name="old_password"]').fill('not-my-password-1')
  await pw.locator('input[name="new_password"]').fill(third)
  await pw.locator('input[name="again"]').fill(third)
  await el(page, 'password-save').click()
  await pw.getByText('原密码不正确').waitFor()
  await pw.locator('input[name="old_password"]').fill(second)
  await el(page, 'password-save').click()
  await page.locator('.el-message--success', { hasText: '密码已修改' }).waitFor()
  assert.equal((await nodeLogin(name, third)).status, 200)
  assert.equal((await nodeLogin(name, second)).status, 401)
  assertNoPageErrors(page)
  await context.close()
})
