// Helpers shared by the statistics and report pages: why a figure has no value (in Chinese), how a
// figure is printed with its unit, the org units (loaded once per page load), the indicator
// definitions and which business area (a module's `group`) each indicator belongs to.
import { get } from '../../api.js'
import { session } from '../../session.js'

// `reason` of a figure without a value (src/stats/stats.c) → what the person reads
export const REASONS = {
  no_data: '本期没有记录',
  no_data_compared: '对比期没有记录',
  denominator_zero: '分母为 0,无法计算',
  base_zero: '上年同期为 0,无法计算变化',
  overflow: '数值超出范围',
  no_calendar: '缺少节假日日历,无法计算工作日',
  no_breakdown: '该指标没有此分类',
  denied: '无权查看'
}

export function reasonText(reason) {
  return REASONS[reason] || reason || '本期没有记录'
}

// 12033 → "12,033"; keeps the digits the server chose (text), groups the integer part
export function groupDigits(text) {
  if (text === null || text === undefined) return ''
  const s = String(text)
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s)
  if (!m) return s
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] || '')
}

// a figure as printed: "12,033 件", "99.9%"; null when it has no value
export function figureText(item) {
  if (!item || item.value === null || item.value === undefined) return null
  const text = groupDigits(item.text ?? item.value)
  const unit = item.unit || ''
  return unit === '%' ? text + '%' : unit ? text + ' ' + unit : text
}

// money fields of records are integer fen
export function fenToYuan(fen) {
  if (fen === null || fen === undefined || fen === '') return ''
  return groupDigits((Number(fen) / 100).toFixed(2)) + ' 元'
}

// The org units, as a list and as a tree for el-tree-select (code, name, children).
let orgsPromise = null
export function loadOrgs() {
  if (!orgsPromise) {
    orgsPromise = get('/api/v1/orgs', undefined, { quiet: true }).then((r) => {
      const items = (r.items || r).filter((o) => o.active !== false)
      const byCode = new Map(items.map((o) => [o.code, { ...o, children: [] }]))
      const roots = []
      for (const o of byCode.values()) {
        const parent = o.parent && byCode.get(o.parent)
        if (parent) parent.children.push(o)
        else roots.push(o)
      }
      for (const o of byCode.values()) if (!o.children.length) delete o.children
      return { items, byCode, roots }
    }).catch((e) => { orgsPromise = null; throw e })
  }
  return orgsPromise
}

// Indicator and table definitions (GET /api/v1/indicators/definitions), once per page load.
let definitionsPromise = null
export function loadDefinitions() {
  if (!definitionsPromise) {
    definitionsPromise = get('/api/v1/indicators/definitions').then((r) => {
      const byCode = new Map(r.indicators.map((d) => [d.code, d]))
      return { indicators: r.indicators, tables: r.tables || [], byCode, years: r.years || [] }
    }).catch((e) => { definitionsPromise = null; throw e })
  }
  return definitionsPromise
}

// The indicator whose records stand behind a figure: a derived one (ratio, total, change …)
// follows its first part, or the second for part "b" — as GET /indicators/{code}/records does.
export function baseIndicator(byCode, code, part) {
  let d = byCode.get(code)
  let p = part
  while (d && !d.module && Array.isArray(d.of) && d.of.length) {
    d = byCode.get(p === 'b' && d.of[1] ? d.of[1] : d.of[0])
    p = null
  }
  return d || null
}

// 业务领域 of an indicator: the group of the module it counts (from GET /api/v1/modules)
export function areaOf(byCode, code) {
  const base = baseIndicator(byCode, code)
  const m = base && session.modules.find((x) => x.code === base.module)
  return (m && m.group) || '其他'
}

// GET /api/v1/indicators/table. Without org= the server gives the table of the user's own scope
// (a town office's town, the leadership's city).
export function getTable(query) {
  return get('/api/v1/indicators/table', query, { quiet: true })
}

export function moduleOf(code) {
  return session.modules.find((m) => m.code === code) || null
}

export function currentYear() {
  return new Date().getFullYear()
}

// The year a page opens on: the last calendar year when it has figures; otherwise the newest
// earlier year that has (a county whose records in sifa stop before it), or this year (records
// that start this year); with no figures anywhere — or only in years to come, a mistyped date —
// the last calendar year.
// Moves `period` (a ref) to the default year, as text when `asText`, unless someone chose a period
// while it loaded. True when the ref moved or was chosen meanwhile (then the page's watch on it
// loads), false when it already held the default (then the page loads itself).
export async function openOnDefaultYear(period, asText = false) {
  const initial = period.value
  const y = await defaultYear()
  if (period.value !== initial) return true
  const value = asText ? String(y) : y
  if (value === period.value) return false
  period.value = value
  return true
}

export async function defaultYear() {
  const last = currentYear() - 1
  try {
    const { years } = await loadDefinitions()
    return years.find((y) => y <= last) ?? years.find((y) => y === currentYear()) ?? last
  } catch {
    return last
  }
}

// the years offered by the year pickers: this year back to 2015
export function yearOptions() {
  const years = []
  for (let y = currentYear(); y >= 2015; y--) years.push(y)
  return years
}

// the year a period string belongs to ("2021", "2021Q3", "2021-07", "2021-03-01..2021-05-31")
export function yearOfPeriod(period) {
  const m = /^(\d{4})/.exec(period || '')
  return m ? Number(m[1]) : currentYear()
}
