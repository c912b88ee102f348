import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";
import components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";
import { precompress } from "./scripts/precompress.ts";

/** The backend this dev server forwards `/api` to (`npm run dev -w frontend`). */
const backend = process.env.MCS_BACKEND_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus on demand: each <el-*> used in a template brings its code and its CSS, nothing else.
    components({ resolvers: [ElementPlusResolver({ importStyle: "css" })], dts: "src/components.d.ts" }),
    precompress(),
  ],
  define: {
    // vue-i18n's esm-bundler flags: Composition API only, no devtools hooks in production.
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  // The analysis page's parser runs in a module worker: it imports the core like any module.
  worker: { format: "es" },
  server: { proxy: { "/api": backend, "/ws": { target: backend, ws: true } } },
  build: {
    target: "es2022",
    // ECharts (~170 kB gzipped) is loaded by the device page alone.
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        // Libraries in chunks of their own: named for what they hold, cached across releases of the app.
        codeSplitting: {
          groups: [
            { name: "vue", test: /node_modules[\\/](@vue|vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/, priority: 3 },
            // Not the parts only the analysis page draws with (heat map, its colour scale and zoom, legends), nor the overview's bar chart: they stay in their lazy chunks, out of what the big screen loads.
            { name: "echarts", test: /node_modules[\\/](zrender|echarts(?![\\/]lib[\\/](chart[\\/](heatmap|bar)|component[\\/](visualMap|dataZoom|legend|helper[\\/]sliderMove)|visual[\\/]VisualMapping)))[\\/]/, priority: 2 },
            { name: "zod", test: /node_modules[\\/]zod[\\/]|packages[\\/]protocol[\\/]/, priority: 2 },
            { name: "element-plus", test: /node_modules[\\/](element-plus|@element-plus|@floating-ui|@ctrl|lodash-es|lodash-unified|dayjs|async-validator|@popperjs|memoize-one|normalize-wheel-es|@sxzz)[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
});
