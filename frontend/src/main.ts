import { createApp } from "vue";
import { createPinia } from "pinia";
import App from "./App.vue";
import { i18n } from "./i18n/index.ts";
import { router } from "./router/index.ts";
import { setLicenseLockedHandler, setUnauthenticatedHandler } from "./api/http.ts";
import { useLicenseStore } from "./stores/license.ts";
import { useSessionStore } from "./stores/session.ts";
import "./styles.css";

const app = createApp(App).use(createPinia()).use(i18n).use(router);

// A session that ends while the page is open: back to the login page, then back here.
setUnauthenticatedHandler(() => {
  useSessionStore().forget();
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.push({ path: "/login", query: { redirect: current.fullPath } });
});

// The API refused for the license (locked, expired, invalid): the lock modal, not an error toast.
setLicenseLockedHandler((message) => useLicenseStore().refusedForLicense(message));

app.mount("#app");
