// The server's answer to a refused write, for the forms: a 422 `validation` lists every bad
// field as details [{ field, code, message }], where a group member's path is
// "parties[0].name" and a person's part "applicant.id_number"; each message goes under its
// top-level field.
export function errorsByField(err) {
  const out = {}
  if (!err || err.code !== 'validation' || !Array.isArray(err.details)) return out
  for (const d of err.details) {
    const code = String(d.field || '').split(/[.[]/)[0]
    const where = /^[^.[]+\[(\d+)\]/.exec(d.field || '')
    const message = where ? `第 ${Number(where[1]) + 1} 项:${d.message}` : d.message
    ;(out[code] = out[code] || []).push(message)
  }
  return out
}

// Problems the form has no field for (none of fields), for an alert above it.
export function otherErrors(errors, fields) {
  return Object.entries(errors).filter(([code]) => !fields.some((f) => f.code === code)).flatMap(([, list]) => list)
}
