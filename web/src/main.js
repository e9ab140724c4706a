// The single-page app: Element Plus in Chinese, a hash router (sifa serves index.html for any
// path, but hash routes also work behind a proxy that only forwards /api).
import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import * as Icons from '@element-plus/icons-vue'
import App from './App.vue'
import router from './router.js'
import './style.css'

const app = createApp(App)
for (const [name, component] of Object.entries(Icons)) app.component(name, component)
app.use(ElementPlus, { locale: zhCn })
app.use(router)
app.mount('#app')
