import { ref } from "vue";
import type { UploadProgress } from "../api/upload.ts";

/**
 * The progress of one upload at a time, for `<upload-progress>`: `track` runs the upload
 * with a progress callback and clears the bar when the server has answered (or refused).
 */
export function useUploadProgress() {
  const progress = ref<UploadProgress | null>(null);

  async function track<T>(run: (onProgress: (progress: UploadProgress) => void) => Promise<T>): Promise<T> {
    progress.value = { phase: "uploading", loaded: 0, total: null, percent: null };
    try {
      return await run((next) => (progress.value = next));
    } finally {
      progress.value = null;
    }
  }

  return { progress, track };
}
