// What the record pages need to know about a module definition (GET /api/v1/modules): which
// fields a list shows and may sort or filter by, how a stored value reads for a person (labels of
// code tables, 元 from fen, China time from UTC), and how a form's value becomes the API's value
// and back. Datetimes are shown and entered in China time (UTC+8) whatever the browser's zone.
import { session } from '../../session.js'

export function findModule(code) {
  return session.modules.find((m) => m.code === code) || null
}

// Types stored as JSON on the server: shown, never sorted or filtered by value.
const JSON_TYPES = ['person', 'group', 'attachment']
const LONG_TYPES = ['longtext', 'group', 'attachment']

export function numberField(module) {
  return module.numbering ? module.fields.find((f) => f.code === module.numbering.field) || null : null
}

// The list's columns: the main fields after the number and before state and org (at most six);
// of personal data only a person's name (masked or not, it tells the rows apart).
export function listFields(module) {
  const skip = [module.numbering && module.numbering.field, module.org_field]
  return module.fields.filter((f) => !LONG_TYPES.includes(f.type) && !skip.includes(f.code) &&
    (!f.personal || f.type === 'person')).slice(0, 6)
}

export function sortable(field) {
  return !JSON_TYPES.includes(field.type) && !field.personal
}

export function hasSearch(module) {
  return module.fields.some((f) => f.searchable || (f.fields || []).some((s) => s.searchable))
}

// A short name for a record, for reference pickers and titles: its number and its first
// searchable or person field, else #id.
export function recordLabel(module, record) {
  if (!record) return ''
  const parts = []
  const nf = numberField(module)
  if (nf && record[nf.code]) parts.push(record[nf.code])
  const named = module.fields.find((f) => f.type === 'person' && record[f.code]) ||
    module.fields.find((f) => f.type === 'text' && f.searchable && f !== nf && record[f.code])
  if (named) parts.push(named.type === 'person' ? record[named.code].name : record[named.code])
  return parts.length ? parts.join(' ') : '#' + record.id
}

// ---------- China time ----------

const CHINA_OFFSET_MS = 8 * 3600 * 1000

// "2021-09-28T01:30:00Z" → "2021-09-28 09:30:00" (China time)
function utcToChina(iso) {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  return new Date(t + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ')
}

// "2021-09-28 09:30:00" (China time) → "2021-09-28T09:30:00+08:00", which the API accepts
function chinaToApi(text) {
  return text ? text.replace(' ', 'T') + '+08:00' : null
}

export function formatTime(iso) {
  return utcToChina(iso).slice(0, 16)
}

// ---------- showing values ----------

function enumLabel(field, code) {
  const item = field.codes && field.codes.items.find((i) => i.code === code)
  return item ? item.label : code
}

function formatMoney(fen) {
  return (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + ' 元'
}

export function formatFileSize(bytes) {
  if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + ' MB'
  return Math.max(1, Math.round(bytes / 1024)) + ' KB'
}

// The text a person reads for a stored value. orgName maps an org code to its name; refLabel
// (optional) names a referenced record.
export function formatValue(field, value, { orgName = (c) => c, refLabel } = {}) {
  if (value === null || value === undefined || value === '') return ''
  switch (field.type) {
    case 'enum': return enumLabel(field, value)
    case 'money': return typeof value === 'number' ? formatMoney(value) : String(value)
    case 'bool': return value ? '是' : '否'
    case 'datetime': return formatTime(value)
    case 'org': return orgName(value)
    case 'ref': return (refLabel && refLabel(value)) || '#' + value
    case 'person': return [value.name, value.id_number, value.phone].filter(Boolean).join(' ')
    case 'attachment': return value.name || value.file_id
    case 'group': return Array.isArray(value) ? value.length + ' 项' : ''
    default: return String(value)
  }
}

// ---------- form values ----------

// The empty value of a field in a form.
export function emptyValue(field) {
  switch (field.type) {
    case 'person': return { name: '', id_number: '', phone: '' }
    case 'group': return []
    case 'bool': return field.default !== undefined ? field.default === 'true' : null
    case 'integer': case 'decimal': case 'money': case 'ref': return field.default !== undefined ? Number(field.default) : null
    default: return field.default !== undefined ? field.default : ''
  }
}

// The API's value → the form's (money in 元, datetimes in China time).
export function toFormValue(field, value) {
  if (value === null || value === undefined) return emptyValue(field)
  switch (field.type) {
    case 'money': return value / 100
    case 'datetime': return utcToChina(value)
    case 'person': return { name: value.name || '', id_number: value.id_number || '', phone: value.phone || '' }
    case 'group': return value.map((row) => Object.fromEntries(field.fields.map((s) => [s.code, toFormValue(s, row[s.code])])))
    default: return value
  }
}

function blank(v) {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '')
}

// The form's value → the API's (null when empty).
export function toApiValue(field, value) {
  if (field.type === 'group') {
    if (!Array.isArray(value) || !value.length) return null
    return value.map((row) => {
      const out = {}
      for (const s of field.fields) {
        const v = toApiValue(s, row[s.code])
        if (v !== null) out[s.code] = v
      }
      return out
    })
  }
  if (field.type === 'person') {
    if (!value || Object.values(value).every(blank)) return null
    const out = {}
    for (const key of ['name', 'id_number', 'phone']) if (!blank(value[key])) out[key] = value[key].trim()
    return out
  }
  if (blank(value)) return null
  switch (field.type) {
    case 'money': return Math.round(value * 100)
    case 'datetime': return chinaToApi(value)
    case 'attachment': return { file_id: value.file_id }
    default: return value
  }
}
