// ElMessage and ElMessageBox are called, not written in templates: their styles come by hand.
import { ElMessage, ElMessageBox } from "element-plus";
import "element-plus/es/components/message/style/css";
import "element-plus/es/components/message-box/style/css";
import { i18n } from "../i18n/index.ts";
import { ApiError, LICENSE_LOCKED_CODE } from "../api/http.ts";

const t = i18n.global.t;

/**
 * One line for an error: what kind of failure (in the user's language), then the API's own
 * message, which names the field or the reason.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return `${t("errors.unknown")}: ${error instanceof Error ? error.message : String(error)}`;
  if (error.code === "network") return t("errors.network");
  const key = `errors.${error.code}`;
  const kind = i18n.global.te(key) ? t(key) : t("errors.unknown");
  // These codes say everything there is to say; the others carry a useful detail (a field, a wait).
  if (["MCS_ERR_BAD_CREDENTIALS", "MCS_ERR_UNAUTHENTICATED"].includes(error.code)) return kind;
  return error.message ? `${kind}: ${error.message}` : kind;
}

/** An error where the user acted: an ApiError described, or a sentence of the app's own. */
export function showError(error: unknown): void {
  // A refusal for the license is no error of this action: the lock modal (shown by then) says what to do.
  if (error instanceof ApiError && error.code === LICENSE_LOCKED_CODE) return;
  ElMessage.error({ message: typeof error === "string" ? error : describeError(error), duration: 6000, showClose: true });
}

export function showSuccess(message: string): void {
  ElMessage.success(message);
}

export function showInfo(message: string): void {
  ElMessage.info(message);
}

/** Something the user should read after an action (what the server decided for them): stays until closed or 10 s. */
export function showNotice(message: string): void {
  ElMessage.info({ message, duration: 10_000, showClose: true, customClass: "notice-message" });
}

/** Resolves true when the user confirms. */
export async function confirmAction(message: string, danger = false): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, t("common.confirmTitle"), {
      type: danger ? "warning" : "info",
      confirmButtonText: t("common.yes"),
      cancelButtonText: t("common.cancel"),
      confirmButtonClass: danger ? "el-button--danger" : undefined,
    });
    return true;
  } catch {
    return false;
  }
}
