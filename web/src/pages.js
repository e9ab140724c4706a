// Every page of the app under the layout, gathered from each area's routes.js, with the menu
// entries that lead to them. Pages are loaded on first visit (one chunk each), so the login page
// stays small. An area's routes.js exports { routes, menu }; a menu entry is
// { path, title, icon, section, permission } and is shown when the user holds the permission
// (see can() in session.js). Business modules get their menu from GET /api/v1/modules instead.
import records from './views/records/routes.js'
import reports from './views/reports/routes.js'
import admin from './views/admin/routes.js'

const areas = [records, reports, admin]
export const pageRoutes = areas.flatMap((a) => a.routes)
export const menuEntries = areas.flatMap((a) => a.menu)
