// The statistics and report pages (web/src/views/reports) in a real browser over the demo county:
// figures equal to the API's and to the 2021 report's, drill-down totals, charts, a town's own
// figures, the declared tables and their export, the annual report job with its download and
// preview, an edited passage in the regenerated report, and the report checker on the real 2021
// report (exactly one MISMATCH, 72.72% → 72.73%).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { launch, loginAs, BASE, assertNoPageErrors, apiCall } from './lib.mjs'

const GOLDEN = new URL('../golden/', import.meta.url)
const REPORT_TEXT = readFileSync(new URL('check/cixi-2021.txt', GOLDEN), 'utf8')

// tests/golden/cixi-2021-figures.tsv: key → figure as the 2021 report gives it
function goldenFigures() {
  const figures = new Map()
  for (const line of readFileSync(new URL('cixi-2021-figures.tsv', GOLDEN), 'utf8').split('\n').slice(1)) {
    const [key, value] = line.split('\t')
    if (key) figures.set(key, value)
  }
  return figures
}

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

const figure = (page, code) => page.locator(`[data-test="figure-${code}"]`).first()

async function openIndicators(page, period) {
  await page.goto(`${BASE}/#/reports/indicators?period=${period}`)
  await figure(page, 'mediation_cases').waitFor({ timeout: 15000 })
}

// the options the chart inside a container was drawn with (EChart.vue keeps the instance)
async function chartOption(page, selector) {
  await page.locator(`${selector} canvas`).first().waitFor()
  return page.locator(`${selector} .echart`).first().evaluate((el) => {
    const o = el.sifaChart.getOption()
    return { title: o.title[0].text, series: o.series.map((s) => ({ name: s.name, data: s.data })), categories: o.xAxis[0].data }
  })
}

async function waitForChart(page, selector, check) {
  const deadline = Date.now() + 15000
  for (;;) {
    const o = await chartOption(page, selector)
    if (check(o) || Date.now() > deadline) return o
    await page.waitForTimeout(200)
  }
}

test('统计指标: the leadership sees the 2021 figures of the API and of the report, drills down and charts them', async () => {
  const { context, page } = await loginAs(browser, 'lead')
  await openIndicators(page, '2021')
  const codes = ['mediation_cases', 'mediation_succeeded', 'mediation_success_rate', 'legal_aid_cases', 'normdoc_cleaned']
  const api = await apiCall(page, 'GET', `/api/v1/indicators?period=2021&codes=${codes.join(',')}`)
  assert.equal(api.status, 200, api.text)
  const golden = goldenFigures()
  for (const item of api.json.items) {
    const shown = figure(page, item.indicator)
    assert.equal(Number(await shown.getAttribute('data-value')), item.value, item.indicator)
    assert.match((await shown.innerText()).replace(/,/g, ''), new RegExp('^' + item.text.replace('.', '\\.')))
    const expected = golden.get(item.indicator)
    if (expected && /^[\d.]+%?$/.test(expected)) assert.equal(item.text, expected.replace('%', ''), item.indicator + ' in the 2021 report')
  }
  assert.equal(await figure(page, 'mediation_cases').getAttribute('data-value'), '12033')
  // 同比 beside a figure that has last year's
  assert.match(await page.locator('[data-test="change-mediation_cases"]').innerText(), /^同比(上升|下降)[\d.]+%$|^同比持平$/)

  // drill-down: the records behind the count are as many as the figure
  await figure(page, 'mediation_cases').click()
  const dialog = page.locator('.el-dialog[data-test="drill-dialog"], [data-test="drill-dialog"]').last()
  await dialog.locator('[data-test="drill-total"]').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 15000 })
  assert.equal(await dialog.locator('[data-test="drill-total"]').innerText(), '12033')
  assert.ok(await dialog.locator('.el-table__body tr').count() >= 20)
  assert.match(await dialog.locator('.el-table__body').innerText(), /慈调字/)
  await page.keyboard.press('Escape')

  // the monthly chart of the chosen indicator: 12 months of 2021 beside 2020, adding up to the year
  await page.locator('[data-test="chart-mediation_cases"]').click()
  const monthly = await waitForChart(page, '[data-test="monthly-chart"]',
    (o) => o.title.startsWith('调处矛盾纠纷') && o.series[0].name === '2021年' && o.series[0].data.some((v) => v !== null))
  assert.equal(monthly.categories.length, 12)
  assert.equal(monthly.series.length, 2)
  assert.equal(monthly.series[0].data.length, 12)
  assert.equal(monthly.series[1].data.length, 12)
  assert.equal(monthly.series[0].data.reduce((a, v) => a + (v || 0), 0), 12033)
  const previous = await apiCall(page, 'GET', '/api/v1/indicators?period=2020&codes=mediation_cases')
  assert.equal(monthly.series[1].data.reduce((a, v) => a + (v || 0), 0), previous.json.items[0].value)

  // the towns side by side: 浒山街道 among them, the bars add up to the city's figure
  const bars = await waitForChart(page, '[data-test="org-bar-chart"]', (o) => o.title.startsWith('调处矛盾纠纷') && o.categories.length > 0)
  assert.ok(bars.categories.includes('浒山街道'))
  assert.equal(bars.series[0].data.reduce((a, v) => a + v, 0), 12033)
  assertNoPageErrors(page)
  await context.close()
})

test('统计指标: a quarter and an org unit chosen on the page give the API\'s figure for them', async () => {
  const { context, page } = await loginAs(browser, 'lead')
  await openIndicators(page, '2021')
  await page.locator('[data-test="period-kind"]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '季度' }).click()
  await page.locator('[data-test="period-quarter"]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '第三季度' }).click()
  const quarter = await apiCall(page, 'GET', '/api/v1/indicators?period=2021Q3&codes=mediation_cases')
  await page.locator(`[data-test="figure-mediation_cases"][data-value="${quarter.json.items[0].value}"]`).waitFor({ timeout: 15000 })

  await page.locator('.el-select[data-test="org-select"]').click()
  await page.locator('.el-select[data-test="org-select"] input').fill('浒山街道')
  await page.locator('.el-tree-node__content:visible', { hasText: /^浒山街道$/ }).click()
  const town = await apiCall(page, 'GET', '/api/v1/indicators?period=2021Q3&codes=mediation_cases&org=330282001')
  assert.ok(town.json.items[0].value < quarter.json.items[0].value)
  await page.locator(`[data-test="figure-mediation_cases"][data-value="${town.json.items[0].value}"]`).waitFor({ timeout: 15000 })
  assertNoPageErrors(page)
  await context.close()
})

test('统计指标: opened without a period, the page shows the newest year that has figures, not an empty last year', async () => {
  const { context, page } = await loginAs(browser, 'lead')
  const defs = await apiCall(page, 'GET', '/api/v1/indicators/definitions')
  assert.equal(defs.status, 200, defs.text)
  const years = defs.json.years
  assert.ok(years.includes(2021) && years.includes(2020), `the demo county's years: ${years}`)
  assert.deepEqual([...years].sort((a, b) => b - a), years, 'newest first')
  const last = new Date().getFullYear() - 1
  const want = years.includes(last) ? last : years.find((y) => y <= last) ?? years[0]
  await page.goto(`${BASE}/#/reports/indicators`)
  const cases = figure(page, 'mediation_cases')
  await cases.waitFor({ timeout: 15000 })
  await page.locator('[data-test="period-year"]', { hasText: `${want}年` }).waitFor({ timeout: 15000 })
  const api = await apiCall(page, 'GET', `/api/v1/indicators?period=${want}&codes=mediation_cases`)
  await page.waitForFunction((v) => document.querySelector('[data-test="figure-mediation_cases"]')?.getAttribute('data-value') === String(v),
    api.json.items[0].value, { timeout: 15000 })
  assert.ok(api.json.items[0].value > 0, 'the year opened has figures')
  assertNoPageErrors(page)
  await context.close()
})

test('统计指标: a town\'s judicial office sees its own town\'s figure, a 【无数据】 tag for an empty period, and no annual report menu', async () => {
  const { context, page } = await loginAs(browser, 'hushan')
  await openIndicators(page, '2021')
  const own = Number(await figure(page, 'mediation_cases').getAttribute('data-value'))
  const api = await apiCall(page, 'GET', '/api/v1/indicators?period=2021&codes=mediation_cases')
  assert.equal(own, api.json.items[0].value)
  assert.ok(own > 0 && own < 12033, `the town's figure ${own} is part of the city's 12033`)
  // what the page asks needs no workaround: every readable figure without codes=, the town's own
  // table without org= (both used to be refused for a town office)
  const all = await apiCall(page, 'GET', '/api/v1/indicators?period=2021&compare=yoy')
  assert.equal(all.status, 200, all.text)
  assert.ok(!all.json.items.some((i) => i.indicator === 'admin_disputes_yoy'))
  const table = await apiCall(page, 'GET', '/api/v1/indicators/table?period=2021&codes=mediation_cases')
  assert.equal(table.status, 200, table.text)
  assert.equal(table.json.rows[table.json.rows.length - 1][1], own)
  // the units compared are the town's own committees, adding up to the town's figure
  await page.locator('[data-test="chart-mediation_cases"]').click()
  const bars = await waitForChart(page, '[data-test="org-bar-chart"]', (o) => o.title.startsWith('调处矛盾纠纷') && o.categories.length > 0)
  assert.ok(bars.categories.every((name) => name.startsWith('浒山街道')), bars.categories.join())
  assert.equal(bars.series[0].data.reduce((a, v) => a + v, 0), own)

  // a period without records: flagged, never 0
  await openIndicators(page, '2019')
  const empty = figure(page, 'mediation_cases')
  assert.equal(await empty.getAttribute('data-value'), '')
  assert.match(await empty.innerText(), /【无数据】/)

  await page.locator('.el-sub-menu__title', { hasText: '统计与报告' }).click()
  await page.locator('.el-menu-item', { hasText: '统计指标' }).waitFor()
  assert.equal(await page.locator('.el-menu-item', { hasText: '报告核查' }).count(), 1)
  assert.equal(await page.locator('.el-menu-item', { hasText: '年度报告' }).count(), 0)
  assert.equal(await page.locator('.el-menu-item', { hasText: '叙述段落' }).count(), 0)
  assertNoPageErrors(page)
  await context.close()
})

test('统计报表: the mediation table by town for 2021 shows each town and exports as CSV and Excel', async () => {
  const { context, page } = await loginAs(browser, 'lead')
  await page.goto(`${BASE}/#/reports/tables?table=mediation_by_town&period=2021`)
  const grid = page.locator('[data-test="table-grid"]')
  await grid.locator('.el-table__body tr', { hasText: '浒山街道' }).first().waitFor({ timeout: 15000 })
  assert.match(await grid.locator('[data-test="table-title"]').innerText(), /人民调解工作统计表/)
  const api = await apiCall(page, 'GET', '/api/v1/indicators/table?table=mediation_by_town&period=2021')
  const total = api.json.rows[api.json.rows.length - 1]
  const shownTotal = grid.locator('.el-table__body tr', { hasText: '合计' }).first()
  assert.match((await shownTotal.innerText()).replace(/,/g, ''), new RegExp(String(total[3])))

  const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="export-csv"]').click()])
  const csvBytes = readFileSync(await csv.path())
  assert.deepEqual([...csvBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf])
  assert.match(csvBytes.toString('utf8'), /人民调解工作统计表[\s\S]*浒山街道/)
  assert.match(csv.suggestedFilename(), /\.csv$/)
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="export-xlsx"]').click()])
  assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString(), 'PK')
  assertNoPageErrors(page)
  await context.close()
})

// generates the report of `year` in `format` on the page and returns its download's bytes
async function generate(page, format) {
  await page.locator(`[data-test="report-format"] .el-radio-button`, { hasText: { md: 'Markdown', html: 'HTML', docx: 'Word', pdf: 'PDF' }[format] }).click()
  await page.locator('[data-test="report-generate"]').click()
  await page.locator('[data-test="report-state"]', { hasText: '已完成' }).waitFor({ timeout: 30000 })
  assert.match(await page.locator('[data-test="report-progress"]').innerText(), /100%/)
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="report-download"]').click()])
  return readFileSync(await file.path())
}

async function chooseYear(page, selector, year) {
  await page.locator(selector).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: `${year}年` }).click()
}

test('年度报告: the legal-affairs office generates 2021 as Word and as HTML, previews it and drills into a figure', async () => {
  const { context, page } = await loginAs(browser, 'fazhi')
  await page.goto(`${BASE}/#/reports/annual`)
  await chooseYear(page, '[data-test="report-year"]', 2021)
  const docx = await generate(page, 'docx')
  assert.equal(docx.subarray(0, 2).toString(), 'PK')

  const html = await generate(page, 'html')
  assert.match(html.toString('utf8'), /2021年度法治政府建设/)
  const frame = page.frameLocator('[data-test="report-frame"]')
  await frame.locator('h1').waitFor()
  // the figures this role may not read are flagged in the preview and counted beside it
  const flagged = await frame.locator('.missing').count()
  assert.ok(flagged > 0)
  assert.match(await page.locator('[data-test="preview-missing"]').innerText(), new RegExp(`${flagged} 处`))
  // nothing inside the preview runs: the sandbox has no scripts
  assert.equal(await page.locator('[data-test="report-frame"]').getAttribute('sandbox'), 'allow-same-origin')
  const cleaned = await frame.locator('a.figure[data-indicator="normdoc_cleaned"]').first()
  assert.equal(await cleaned.innerText(), '634')
  await cleaned.click()
  const dialog = page.locator('[data-test="drill-dialog"]').last()
  await dialog.locator('[data-test="drill-total"]', { hasText: '634' }).waitFor({ timeout: 15000 })
  assertNoPageErrors(page)
  await context.close()
})

test('叙述段落: an edited passage is saved with who changed it and appears in the regenerated Markdown report', async () => {
  const { context, page } = await loginAs(browser, 'fazhi')
  await page.goto(`${BASE}/#/reports/passages`)
  await chooseYear(page, '[data-test="passages-year"]', 2021)
  const key = 'next_steps'
  const text = `e2e 修改的段落 ${Date.now()}:持续推进法治政府建设。`
  const box = page.locator(`textarea[data-test="passage-text-${key}"]`)
  await box.waitFor()
  await box.fill(text)
  await page.locator(`[data-test="passage-save-${key}"]`).click()
  await page.locator(`[data-test="passage-updated-${key}"]`).waitFor()
  assert.match(await page.locator(`[data-test="passage-updated-${key}"]`).innerText(), /fazhi 修改于/)
  const stored = await apiCall(page, 'GET', '/api/v1/reports/annual/2021/passages')
  assert.equal(stored.json.items.find((p) => p.key === key).text, text)

  await page.goto(`${BASE}/#/reports/annual`)
  await chooseYear(page, '[data-test="report-year"]', 2021)
  const md = (await generate(page, 'md')).toString('utf8')
  assert.ok(md.includes(text), 'the edited passage is in the report')
  assert.match(md, /共清理规范性文件\[634\]/)

  // back to the template's wording
  const reset = await apiCall(page, 'PUT', `/api/v1/reports/annual/2021/passages/${key}`, { text: null })
  assert.equal(reset.status, 200, reset.text)
  assertNoPageErrors(page)
  await context.close()
})

test('报告核查: the real 2021 report has exactly one mismatch (72.72% → 72.73%) and 361 + 273 = 634 checks out', async () => {
  const { context, page } = await loginAs(browser, 'lead')
  await page.goto(`${BASE}/#/reports/check`)
  await page.locator('textarea[data-test="check-text"]').fill(REPORT_TEXT)
  await chooseYear(page, '[data-test="check-year"]', 2021)
  await page.locator('[data-test="check-run"]').click()
  const banner = page.locator('[data-test="check-banner"]')
  await banner.waitFor({ timeout: 20000 })
  assert.match(await banner.innerText(), /发现 1 处不一致/)
  assert.equal(await page.locator('[data-test="count-MISMATCH"]').innerText(), '1')
  // the MISMATCH filter is on: the one row is the rate, with where it is and what it should be
  const rows = page.locator('[data-test="claims-table"] .el-table__body tr.claim-MISMATCH')
  assert.equal(await rows.count(), 1)
  const row = await rows.innerText()
  assert.match(row, /72\.72%/)
  assert.match(row, /72\.73/)
  assert.match(row, /第 7 行第 449 列/)
  assert.equal(await rows.locator('mark').innerText(), '72.72%')
  assert.equal(await rows.locator('.el-tag--danger').count(), 1)

  await page.locator('[data-test="filter-OK"]').click()
  const sum = page.locator('[data-test="claims-table"] .el-table__body tr', { hasText: '共清理规范性文件634件' })
  await sum.waitFor()
  assert.match(await sum.innerText(), /一致/)
  assert.match(await sum.innerText(), /361件 \+ 273件 = 634件/)
  const ok = Number(await page.locator('[data-test="count-OK"]').innerText())
  assert.equal(await page.locator('[data-test="claims-table"] .el-table__body tr.claim-OK').count(), ok)
  assertNoPageErrors(page)
  await context.close()
})

test('报告核查: an uploaded file with planted errors shows every one of them', async () => {
  const { context, page } = await loginAs(browser, 'lead')
  await page.goto(`${BASE}/#/reports/check`)
  await page.locator('[data-test="check-upload"] input[type="file"]').setInputFiles(fileURLToPath(new URL('check/planted-cixi-2021.txt', GOLDEN)))
  await page.locator('[data-test="check-file"]').waitFor()
  await chooseYear(page, '[data-test="check-year"]', 2021)
  await page.locator('[data-test="check-run"]').click()
  await page.locator('[data-test="check-banner"]').waitFor({ timeout: 20000 })
  assert.match(await page.locator('[data-test="check-banner"]').innerText(), /发现 4 处不一致/)
  const text = await page.locator('[data-test="claims-table"] .el-table__body').innerText()
  for (const planted of ['634件', '等3个', '2条', '72.72%']) assert.ok(text.includes(planted.replace('等', '')), planted)
  assertNoPageErrors(page)
  await context.close()
})
