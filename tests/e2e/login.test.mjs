// The login page, the frame and its menu, reload and logout, in a real browser.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { launch, loginAs, BASE, PASSWORD, watchErrors, assertNoPageErrors, apiCall } from './lib.mjs'

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

test('a wrong password is refused with the server\'s Chinese message and no session', async () => {
  const context = await browser.newContext({ locale: 'zh-CN' })
  const page = await context.newPage()
  watchErrors(page)
  await page.goto(BASE + '/')
  await page.waitForURL(/#\/login/)
  await page.locator('input[name="user"]').fill('hushan')
  await page.locator('input[name="password"]').fill('not-the-password-1')
  await page.locator('[data-test="login"]').click()
  await page.getByText('用户名或密码错误').waitFor()
  const me = await apiCall(page, 'GET', '/api/v1/auth/me')
  assert.equal(me.status, 401)
  await context.close()
})

test('a town office logs in, sees only its own business lines in the menu, survives a reload and logs out', async () => {
  const { context, page } = await loginAs(browser, 'hushan')
  assert.match(await page.locator('[data-test="user-menu"]').innerText(), /浒山街道司法所/)
  // judicial_office may read mediation cases but not reconsideration's intake points nor the audit log
  await page.getByText('人民调解', { exact: true }).first().click()
  await page.locator('[data-module="mediation_case"]').waitFor()
  assert.equal(await page.locator('[data-module="reconsideration_intake_point"]').count(), 0)
  assert.equal(await page.locator('[data-module="enforcement_entity"]').count(), 0)

  await page.reload()
  await page.locator('[data-test="user-menu"]').waitFor()
  const me = await apiCall(page, 'GET', '/api/v1/auth/me')
  assert.equal(me.status, 200)
  assert.equal(me.json.name, 'hushan')
  // the CSRF token handed back after a reload is the session's: a write with it is accepted
  const tokens = await apiCall(page, 'POST', '/api/v1/auth/tokens', { name: 'e2e', scopes: ['mediation_case.read'] })
  assert.equal(tokens.status, 201, tokens.text)

  await page.locator('[data-test="user-menu"]').click()
  await page.locator('[data-test="logout"]').click()
  await page.waitForURL(/#\/login/)
  assert.equal((await apiCall(page, 'GET', '/api/v1/auth/me')).status, 401)
  assertNoPageErrors(page)
  await context.close()
})

test('the home page lists what is overdue in the user\'s own scope', async () => {
  const { context, page } = await loginAs(browser, 'lead')
  const api = await apiCall(page, 'GET', '/api/v1/deadlines?within_days=7')
  assert.equal(api.status, 200)
  if (api.json.overdue > 0) {
    await page.locator('[data-test="overdue-count"]').waitFor()
    assert.equal(await page.locator('[data-test="overdue-count"]').innerText(), `已超期 ${api.json.overdue} 件`)
  }
  const rows = await page.locator('.el-table__body tr').count()
  assert.equal(rows, Math.min(api.json.items.length, 200))
  assertNoPageErrors(page)
  await context.close()
})

test('a deep link before login returns to the same page after login', async () => {
  const context = await browser.newContext({ locale: 'zh-CN' })
  const page = await context.newPage()
  await page.goto(BASE + '/#/?from=e2e')
  await page.waitForURL(/#\/login\?redirect=/)
  await page.locator('input[name="user"]').fill('lead')
  await page.locator('input[name="password"]').fill(PASSWORD)
  await page.locator('[data-test="login"]').click()
  await page.waitForURL(/#\/\?from=e2e/)
  await context.close()
})
