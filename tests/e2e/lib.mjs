// Shared helpers of the browser tests: Debian's Chromium driven by playwright-core (from
// web/node_modules; no browser download), the server tests/e2e/run.sh started (SIFA_E2E_URL) over a
// copy of the demo county, and logins as the demo users (password SIFA_E2E_PASSWORD).
// A page that throws an uncaught error or logs a console error fails its test: pageErrors(page).
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'

const require = createRequire(new URL('../../web/package.json', import.meta.url))
const { chromium } = require('playwright-core')

export const BASE = process.env.SIFA_E2E_URL || 'http://127.0.0.1:8080'
export const PASSWORD = process.env.SIFA_E2E_PASSWORD || 'Demo-County-Pass-2026'

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      // a test with two tabs drives both: a background tab must not be throttled
      '--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows']
  })
}

// Remembers uncaught page errors and console errors; assertNoPageErrors fails the test on any.
export function watchErrors(page) {
  const errors = []
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message))
  page.on('console', (m) => {
    // a refused request is already asserted by the test that makes it; the browser logs it too
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push('console: ' + m.text())
  })
  page.sifaErrors = errors
  return errors
}

export function assertNoPageErrors(page) {
  assert.deepEqual(page.sifaErrors || [], [], 'the page logged errors')
}

// Logs in through the login form and waits for the signed-in frame.
export async function loginAs(browser, user, password = PASSWORD) {
  const context = await browser.newContext({ locale: 'zh-CN', acceptDownloads: true, viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  watchErrors(page)
  await page.goto(BASE + '/#/login')
  await page.locator('input[name="user"]').fill(user)
  await page.locator('input[name="password"]').fill(password)
  await page.locator('[data-test="login"]').click()
  await page.locator('[data-test="user-menu"]').waitFor({ timeout: 15000 })
  return { context, page }
}

// Calls the API with the browser's own session (cookie and CSRF token from /auth/me), to set up or
// check data beside what the page shows.
export async function apiCall(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const me = await (await fetch('/api/v1/auth/me')).json()
    const headers = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (method !== 'GET') headers['X-CSRF-Token'] = me.csrf_token
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await r.text()
    let json = null
    try { json = JSON.parse(text) } catch { /* not JSON */ }
    return { status: r.status, json, text }
  }, { method, path, body })
}
