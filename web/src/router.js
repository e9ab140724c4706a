// Routes of the app. Pages under the layout need a session; the guard loads it once (a reload
// keeps the session: the cookie is still there) and sends anyone without one to the login page.
import { createRouter, createWebHashHistory } from 'vue-router'
import { session, loadSession } from './session.js'
import { setUnauthenticatedHandler } from './api.js'
import Layout from './views/Layout.vue'
import Login from './views/Login.vue'
import Home from './views/Home.vue'
import { pageRoutes } from './pages.js'

const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/login', name: 'login', component: Login, meta: { title: '登录', public: true } },
    { path: '/', component: Layout, children: [{ path: '', name: 'home', component: Home, meta: { title: '首页' } }, ...pageRoutes] },
    { path: '/:rest(.*)*', redirect: '/' }
  ]
})

router.beforeEach(async (to) => {
  if (!session.loaded) await loadSession()
  if (to.meta.public) return true
  if (!session.user) return { name: 'login', query: { redirect: to.fullPath } }
  if (session.user.must_change_password && to.name !== 'login') return { name: 'login', query: { change: '1' } }
  return true
})

router.afterEach((to) => {
  document.title = (to.meta.title ? to.meta.title + ' - ' : '') + '司法行政综合业务平台'
})

setUnauthenticatedHandler(() => {
  session.user = null
  if (router.currentRoute.value.name !== 'login') router.push({ name: 'login', query: { redirect: router.currentRoute.value.fullPath } })
})

export default router
