/**
 * Java's `String.hashCode()`: brokers filter consume-queue entries by the int32 hash of a tag, so
 * subscription `codeSet`s must reproduce it exactly (31-polynomial over UTF-16 code units, wrapping).
 */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) {
    hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  }
  return hash;
}
