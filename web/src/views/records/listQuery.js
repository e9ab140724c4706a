// The list page keeps its search in the URL query, so the back button returns to the same search
// and other pages can link to a filtered list (drill-down). The keys are the list API's own
// (GET /api/v1/modules/{code}/records):
//   q=<words>                  full-text search (two characters or more) over searchable fields
//   state=<state code>         e.g. state=concluded
//   org=<org code>             the unit and every unit below it (sent to the API as org_under)
//   <field>=<value>            equal (enum code, org code, integer, money in fen, true/false)
//   <field>__gte=…, __lte=…    ranges (dates as 2021-01-01), also __gt, __lt, __ne, __empty=true
//   sort=<field> or -<field>   order (descending with the minus); page, page_size
// e.g. #/m/mediation_case?state=concluded&committee=330282001_tjw&received_on__gte=2021-01-01
// Keys the search form has no box for (committee above) show as tags the user can remove.
export const PAGE_SIZES = [10, 20, 50, 100, 200]
export const DEFAULT_SORT = '-id'

// The fields the search form offers: code-table selects and date ranges.
export function searchFields(module) {
  const usable = module.fields.filter((f) => !f.personal)
  return {
    enums: usable.filter((f) => f.type === 'enum').slice(0, 4),
    dates: usable.filter((f) => f.type === 'date').slice(0, 2)
  }
}

export function emptyForm(module) {
  const { enums, dates } = searchFields(module)
  const form = { q: '', state: '', org: '' }
  for (const f of enums) form[f.code] = ''
  for (const f of dates) form[f.code] = null
  return form
}

function single(value) {
  return typeof value === 'string' ? value : null
}

// The URL query → the search form, the other filters, paging and order.
export function parseQuery(module, query) {
  const { enums, dates } = searchFields(module)
  const form = emptyForm(module)
  const extra = {}
  const taken = new Set(['page', 'page_size', 'sort'])
  for (const key of ['q', 'state', 'org', ...enums.map((f) => f.code)]) {
    if (single(query[key]) !== null) { form[key] = query[key]; taken.add(key) }
  }
  for (const f of dates) {
    const from = single(query[f.code + '__gte'])
    const to = single(query[f.code + '__lte'])
    if (from !== null || to !== null) {
      form[f.code] = [from || '', to || '']
      taken.add(f.code + '__gte')
      taken.add(f.code + '__lte')
    }
  }
  for (const [key, value] of Object.entries(query)) if (!taken.has(key)) extra[key] = value
  const size = Number(query.page_size)
  return {
    form,
    extra,
    page: Math.max(1, Number(query.page) || 1),
    pageSize: PAGE_SIZES.includes(size) ? size : 20,
    sort: single(query.sort) || DEFAULT_SORT
  }
}

// The search form, the other filters, paging and order → the URL query.
export function routeQuery(module, { form, extra, page, pageSize, sort }) {
  const { dates } = searchFields(module)
  const query = { ...extra }
  for (const [key, value] of Object.entries(form)) {
    if (dates.some((f) => f.code === key)) {
      if (value && value[0]) query[key + '__gte'] = value[0]
      if (value && value[1]) query[key + '__lte'] = value[1]
    } else if (value !== '' && value !== null) {
      query[key] = value
    }
  }
  if (page > 1) query.page = String(page)
  if (pageSize !== 20) query.page_size = String(pageSize)
  if (sort !== DEFAULT_SORT) query.sort = sort
  return query
}

// The URL query → the list API's query: the org filter (a unit and everything below it) is the
// API's org_under; the API's org matches codes exactly.
export function apiQuery(query) {
  const out = { sort: DEFAULT_SORT, page_size: '20', ...query }
  if (typeof out.org === 'string') {
    out.org_under = out.org
    delete out.org
  }
  return out
}

// The query of an export: the same filters, without paging.
export function exportQuery(query) {
  const out = apiQuery(query)
  delete out.page
  delete out.page_size
  return out
}
