import { computed } from "vue";
import { createI18n } from "vue-i18n";
import { z } from "zod";
import { en as zodEn, zhCN as zodZhCN } from "zod/locales";
import elementEn from "element-plus/es/locale/lang/en";
import elementZhCn from "element-plus/es/locale/lang/zh-cn";
import zhCN from "./zh-CN.ts";
import en from "./en.ts";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];

/** Where the user's choice is kept between visits. */
const STORAGE_KEY = "mcs.language";

function storedLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  return LANGUAGES.find((language) => language === stored) ?? "zh-CN";
}

export const i18n = createI18n({
  legacy: false,
  locale: storedLanguage(),
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zhCN, en },
});

export const currentLanguage = computed<Language>(() => i18n.global.locale.value as Language);

/** Element Plus's own texts (pagination, dialogs, date pickers) in the app's language. */
export const elementLocale = computed(() => (currentLanguage.value === "en" ? elementEn : elementZhCn));

/**
 * Switches every text at once: the app's, Element Plus's, and zod's messages for
 * client-side validation, and remembers the choice.
 */
export function setLanguage(language: Language): void {
  i18n.global.locale.value = language;
  localStorage.setItem(STORAGE_KEY, language);
  applyLanguage(language);
}

function applyLanguage(language: Language): void {
  z.config(language === "en" ? zodEn() : zodZhCN());
  document.documentElement.lang = language;
  document.title = i18n.global.t("app.title");
}

applyLanguage(currentLanguage.value);
