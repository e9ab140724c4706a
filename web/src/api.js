// Talks to sifa's API: JSON in and out, the session cookie (HttpOnly, sent by the browser) and the
// session's CSRF token on every state-changing request. Errors come back as ApiError carrying the
// server's envelope ({"error":{"code","message","details"}}): `code` is for the program, `message`
// is Chinese for the person. A 401 sends the user to the login page.
import { ElMessage } from 'element-plus'

let csrfToken = ''
let onUnauthenticated = null

export function setCsrfToken(token) { csrfToken = token || '' }
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn }

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}

export function queryString(query) {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v))
    else params.append(key, String(value))
  }
  const text = params.toString()
  return text ? '?' + text : ''
}

async function errorFrom(response) {
  let code = 'http_' + response.status
  let message = '请求失败(HTTP ' + response.status + ')'
  let details
  try {
    const body = await response.json()
    if (body && body.error) {
      code = body.error.code || code
      message = body.error.message || message
      details = body.error.details
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, code, message, details)
}

// options: query (object), body (JSON value, or FormData/Blob sent as is), headers, raw (return the
// Response itself, for downloads and ETags), quiet (no toast on error)
export async function api(method, path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) }
  let body
  if (options.body !== undefined) {
    if (options.body instanceof FormData || options.body instanceof Blob || typeof options.body === 'string') {
      body = options.body
    } else {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(options.body)
    }
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken
  let response
  try {
    response = await fetch(path + queryString(options.query), { method, headers, body, credentials: 'same-origin' })
  } catch (e) {
    const err = new ApiError(0, 'network', '无法连接服务器,请检查网络后重试')
    if (!options.quiet) ElMessage.error(err.message)
    throw err
  }
  if (!response.ok) {
    const err = await errorFrom(response)
    if (response.status === 401 && onUnauthenticated && !options.noRedirect) onUnauthenticated()
    else if (!options.quiet) ElMessage.error(err.message)
    throw err
  }
  if (options.raw) return response
  if (response.status === 204) return null
  const type = response.headers.get('content-type') || ''
  return type.includes('json') ? response.json() : response.text()
}

export const get = (path, query, options = {}) => api('GET', path, { ...options, query })
export const post = (path, body, options = {}) => api('POST', path, { ...options, body })
export const put = (path, body, options = {}) => api('PUT', path, { ...options, body })
export const del = (path, options = {}) => api('DELETE', path, options)

// Saves a response body as a file (exports, reports); the name comes from Content-Disposition.
export async function download(path, query, fallbackName) {
  const response = await api('GET', path, { query, raw: true, headers: { Accept: '*/*' } })
  const blob = await response.blob()
  const disposition = response.headers.get('content-disposition') || ''
  const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition)
  const name = match ? decodeURIComponent(match[1]) : fallbackName
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
  return name
}
