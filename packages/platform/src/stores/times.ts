/** Unix ms as the ISO-8601 text the stores write and the API answers. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** A timestamp column as ISO-8601 (both drivers give a Date or a string), null kept. */
export const isoOrNull = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string).toISOString());
