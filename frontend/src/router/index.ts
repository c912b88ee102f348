import { createRouter, createWebHistory } from "vue-router";
import { useSessionStore } from "../stores/session.ts";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean;
    /** The menu entry (its path) lit while this page shows: a device page lights "devices". */
    menu?: string;
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/login", component: () => import("../pages/login/LoginPage.vue"), meta: { public: true } },
    {
      path: "/",
      component: () => import("../components/AppLayout.vue"),
      children: [
        { path: "", redirect: "/devices" },
        { path: "devices", component: () => import("../pages/devices/DevicesPage.vue"), meta: { menu: "/devices" } },
        { path: "devices/:sn", component: () => import("../pages/device/DevicePage.vue"), props: true, meta: { menu: "/devices" } },
        { path: "alarms", component: () => import("../pages/alarms/AlarmsPage.vue"), meta: { menu: "/alarms" } },
        { path: ":rest(.*)*", component: () => import("../pages/not-found/NotFoundPage.vue") },
      ],
    },
  ],
});

router.beforeEach(async (to) => {
  const session = useSessionStore();
  await session.restore();
  if (to.meta.public) {
    // Already logged in: the login page has nothing to offer.
    return session.user ? redirectTarget(to.query.redirect) : true;
  }
  if (!session.user) return { path: "/login", query: { redirect: to.fullPath } };
  return true;
});

/** Where to go after logging in: the page asked for, if it is one of ours. */
export function redirectTarget(redirect: unknown): string {
  return typeof redirect === "string" && redirect.startsWith("/") && !redirect.startsWith("//") ? redirect : "/devices";
}
