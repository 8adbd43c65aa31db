/**
 * Java's text predicates as the Java proxy applies them to names, tags, keys and groups, so the same
 * input is refused (or accepted) here: `StringUtils.isBlank` (Character.isWhitespace on every UTF-16
 * unit, which excludes non-breaking spaces, unlike String.prototype.trim) and `Character.isISOControl`.
 */

/** Character.isWhitespace: space/line/paragraph separators except non-breaking ones, plus \t-\r and U+001C-U+001F. */
export function isJavaWhitespace(unit: number): boolean {
  if (unit === 0x20 || (unit >= 0x09 && unit <= 0x0d) || (unit >= 0x1c && unit <= 0x1f)) return true;
  if (unit < 0x1680) return false;
  return (
    unit === 0x1680 ||
    (unit >= 0x2000 && unit <= 0x2006) ||
    (unit >= 0x2008 && unit <= 0x200a) ||
    unit === 0x2028 ||
    unit === 0x2029 ||
    unit === 0x205f ||
    unit === 0x3000
  );
}

/** StringUtils.isBlank: empty or whitespace only. */
export function isJavaBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isJavaWhitespace(text.charCodeAt(i))) return false;
  return true;
}

/** Character.isISOControl on any UTF-16 unit: U+0000–U+001F and U+007F–U+009F. */
export function containsControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f)) return true;
  }
  return false;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
