import type { Floorplan, FloorplanDevice, FloorplanPatch } from "@mcs/protocol";
import { http } from "../../api/http.ts";
import { upload, type UploadProgress } from "../../api/upload.ts";

const path = (id: number) => `/api/floorplans/${id}`;

/** `/api/floorplans`: drawings and where devices sit on them, in per cent of the drawing. */
export const floorplansApi = {
  list: async () => (await http.get<{ data: Floorplan[] }>("/api/floorplans")).data,
  /** Multipart: the name and the drawing (PNG, JPEG or SVG; the server recognises it by its content). */
  upload: (name: string, file: File, onProgress?: (progress: UploadProgress) => void) => {
    const body = new FormData();
    body.append("name", name);
    body.append("file", file, file.name);
    return upload<Floorplan>("POST", "/api/floorplans", body, { onProgress });
  },
  update: (id: number, patch: FloorplanPatch) => http.patch<Floorplan>(path(id), patch),
  remove: (id: number) => http.delete(path(id)),
  setDevices: (id: number, devices: FloorplanDevice[]) => http.put<Floorplan>(`${path(id)}/devices`, { devices }),
  imageUrl: (id: number) => `${path(id)}/image`,
};
