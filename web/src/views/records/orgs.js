// The org units (GET /api/v1/orgs, every unit of the county), loaded once per page load and
// shared by the record pages: names for codes and the tree for tree selects. (The list's org
// filter needs no codes from here: the list API's org_under takes a unit's whole subtree.)
import { reactive } from 'vue'
import { get } from '../../api.js'

const state = reactive({ items: [], byCode: new Map(), tree: [], loaded: false })
let loading = null

function buildTree(items) {
  const nodes = new Map(items.map((o) => [o.code, { value: o.code, label: o.name, disabled: !o.active, children: [] }]))
  const roots = []
  for (const o of items) {
    const node = nodes.get(o.code)
    if (o.parent && nodes.has(o.parent)) nodes.get(o.parent).children.push(node)
    else roots.push(node)
  }
  return roots
}

export function loadOrgs() {
  if (!loading) {
    loading = get('/api/v1/orgs', undefined, { quiet: true }).then((result) => {
      state.items = result.items || []
      state.byCode = new Map(state.items.map((o) => [o.code, o]))
      state.tree = buildTree(state.items)
      state.loaded = true
    }).catch(() => { loading = null })
  }
  return loading
}

export const orgs = state

export function orgName(code) {
  const o = state.byCode.get(code)
  return o ? o.name : code
}
