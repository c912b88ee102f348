import { createRouter, createWebHistory } from "vue-router";
import { useSessionStore, type Permission } from "../stores/session.ts";
import { screenGuard } from "../pages/screen/kiosk.ts";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean;
    /** The menu entry (its path) lit while this page shows: a device page lights "devices". */
    menu?: string;
    /** Only for users who may do this; others are sent to the start page. */
    permission?: Permission;
    /** The big screen: a kiosk token or a session lets it in (outside the admin layout). */
    screen?: boolean;
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/login", component: () => import("../pages/login/LoginPage.vue"), meta: { public: true } },
    { path: "/screen", component: () => import("../pages/screen/ScreenPage.vue"), meta: { screen: true } },
    {
      path: "/",
      component: () => import("../components/AppLayout.vue"),
      children: [
        // The plant overview: the page everyone lands on.
        { path: "", component: () => import("../pages/overview/OverviewPage.vue"), meta: { menu: "/" } },
        { path: "devices", component: () => import("../pages/devices/DevicesPage.vue"), meta: { menu: "/devices" } },
        { path: "devices/:sn", component: () => import("../pages/device/DevicePage.vue"), props: true, meta: { menu: "/devices" } },
        { path: "alarms", component: () => import("../pages/alarms/AlarmsPage.vue"), meta: { menu: "/alarms" } },
        { path: "channels", component: () => import("../pages/channels/ChannelsPage.vue"), meta: { menu: "/channels" } },
        { path: "floorplans", component: () => import("../pages/floorplans/FloorplansPage.vue"), meta: { menu: "/floorplans" } },
        { path: "users", component: () => import("../pages/users/UsersPage.vue"), meta: { menu: "/users", permission: "manageUsers" } },
        { path: "audit", component: () => import("../pages/audit/AuditPage.vue"), meta: { menu: "/audit", permission: "viewAudit" } },
        { path: "settings", component: () => import("../pages/settings/SettingsPage.vue"), meta: { menu: "/settings", permission: "viewSettings" } },
        { path: "license", component: () => import("../pages/license/LicensePage.vue"), meta: { menu: "/license" } },
        // A lazy chunk of its own (ECharts heat map, the parser's worker): nothing of it reaches the big screen.
        { path: "analysis", component: () => import("../pages/analysis/AnalysisPage.vue"), meta: { menu: "/analysis", permission: "analyseArchive" } },
        { path: ":rest(.*)*", component: () => import("../pages/not-found/NotFoundPage.vue") },
      ],
    },
  ],
});

router.beforeEach(async (to) => {
  const session = useSessionStore();
  if (to.meta.screen) {
    return screenGuard(to, async () => {
      await session.restore();
      return session.user !== null;
    });
  }
  await session.restore();
  if (to.meta.public) {
    // Already logged in: the login page has nothing to offer.
    return session.user ? redirectTarget(to.query.redirect) : true;
  }
  if (!session.user) return { path: "/login", query: { redirect: to.fullPath } };
  if (to.meta.permission && !session.can(to.meta.permission)) return "/";
  return true;
});

/** Where to go after logging in: the page asked for, if it is one of ours. */
export function redirectTarget(redirect: unknown): string {
  return typeof redirect === "string" && redirect.startsWith("/") && !redirect.startsWith("//") ? redirect : "/";
}
