// Names of referenced records (fields of type ref), fetched once each and shared by the record
// pages: refLabel(module, id) is reactive, empty until loadRefLabels has fetched the record.
import { reactive } from 'vue'
import { get } from '../../api.js'
import { findModule, recordLabel } from './fields.js'

const labels = reactive({})
const pending = new Set()

export function refLabel(moduleCode, id) {
  return labels[moduleCode + '/' + id] || ''
}

export function rememberRef(moduleCode, record) {
  const target = findModule(moduleCode)
  if (target) labels[moduleCode + '/' + record.id] = recordLabel(target, record)
}

// Fetches one referenced record for its name, unless known or on its way.
export function loadRefLabel(moduleCode, id) {
  const key = moduleCode + '/' + id
  if (!id || labels[key] || pending.has(key)) return
  pending.add(key)
  get(`/api/v1/modules/${moduleCode}/records/${id}`, undefined, { quiet: true })
    .then((record) => rememberRef(moduleCode, record))
    .catch(() => { labels[key] = '#' + id })
    .finally(() => pending.delete(key))
}

// Fetches the records the ref fields of these records point to (one request per unknown id).
export function loadRefLabels(module, records) {
  for (const f of module.fields) {
    if (f.type === 'ref') for (const r of records) loadRefLabel(f.module, r[f.code])
  }
}
