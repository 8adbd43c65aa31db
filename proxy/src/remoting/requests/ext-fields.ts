/**
 * Header ("extFields") values travel as strings: Java parses ints/longs with parseInt/parseLong and
 * booleans with parseBoolean. This turns a typed header object into that map, dropping absent
 * fields (Java omits nulls, and an empty value would decode as absent in the binary encoding).
 */
export type HeaderValue = string | number | boolean | undefined;

export function extFields(header: Record<string, HeaderValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(header)) {
    if (value === undefined) continue;
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`header field "${key}" must be a safe integer, got ${value}`);
    }
    out[key] = String(value);
  }
  return out;
}
