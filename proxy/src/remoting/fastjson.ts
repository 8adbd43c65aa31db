/**
 * Lenient parser for the fastjson 1.x dialect of Remoting response bodies (`JSON.parse` rejects them).
 *
 * Accepted beyond standard JSON:
 * - bare number keys `{0:"a"}` (non-String map keys) and bare identifier keys `{a:1}`;
 * - object or array keys `{{"brokerName":"b","queueId":0,"topic":"T"}:42}` (object-keyed maps);
 * - single-quoted strings, and `\'` in any string.
 *
 * Representation:
 * - objects are `JsonObject`s: every entry keeps its parsed key (`keyValue`) and a canonical string
 *   `key`: a string key as is, a number key as its decimal text (so legacy `{0:…}` and standard
 *   `{"0":…}` read the same), an object/array key as `canonicalJson` (keys sorted, no spaces);
 *   object keys longer than MAX_KEY_LENGTH in canonical form are rejected;
 * - integers outside ±(2^53−1) become `bigint` (digits are never rounded); other numbers are `number`.
 *
 * Errors: only `RemotingError('RMQ_BAD_PAYLOAD')`, naming the character offset. Nesting is capped at
 * MAX_JSON_DEPTH so hostile input cannot exhaust the stack, and every step consumes input. Parsing is
 * linear in the input except for object keys, whose canonical form walks the key's subtree once per
 * enclosing object key; MAX_KEY_LENGTH bounds each such walk, so time stays polynomial and small.
 */
import { RemotingError } from './errors.ts';

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;

export interface JsonEntry {
  /** Canonical form of the key, see the module comment. */
  readonly key: string;
  /** The key as parsed: a string, a number/bigint, or for object-keyed maps the key object itself. */
  readonly keyValue: JsonValue;
  readonly value: JsonValue;
}

export const MAX_JSON_DEPTH = 512;
/** Real object keys are MessageQueue-like records of a few dozen bytes; this bounds hostile ones. */
export const MAX_KEY_LENGTH = 64 * 1024;
/** Longer numeric literals are rejected: no RocketMQ value needs them, and BigInt parsing is superlinear. */
const MAX_NUMBER_LENGTH = 400;

/** A JSON object in source order; a later duplicate key replaces the earlier value, as fastjson does. */
export class JsonObject {
  readonly #entries = new Map<string, JsonEntry>();

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): JsonValue | undefined {
    return this.#entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  entries(): IterableIterator<JsonEntry> {
    return this.#entries.values();
  }

  /** `key` defaults to `canonicalKey(keyValue)`; pass it when already computed. */
  set(keyValue: JsonValue, value: JsonValue, key: string = canonicalKey(keyValue)): void {
    this.#entries.set(key, { key, keyValue, value });
  }
}

export function canonicalKey(keyValue: JsonValue): string {
  return typeof keyValue === 'string' ? keyValue : canonicalJson(keyValue);
}

/**
 * JSON text with object keys in code-unit order and bigints as plain digits. A member whose key is
 * itself an object or array is written with that key unquoted, in fastjson's own form: quoting it
 * would escape it again at every level of key nesting, doubling the text each time.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'number' || typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = [...value.entries()]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(
      (entry) =>
        `${isStructured(entry.keyValue) ? entry.key : JSON.stringify(entry.key)}:${canonicalJson(entry.value)}`,
    );
  return `{${members.join(',')}}`;
}

function isStructured(value: JsonValue): boolean {
  return typeof value === 'object' && value !== null;
}

export function parseFastjson(body: Uint8Array | string): JsonValue {
  const text =
    typeof body === 'string'
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return new Parser(text).parseDocument();
}

const BACKSLASH = 0x5c;
const NUMBER_PATTERN = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const IDENTIFIER_PATTERN = /[A-Za-z_$][A-Za-z0-9_$]*/y;
const HEX4_PATTERN = /^[0-9A-Fa-f]{4}$/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Parser {
  readonly #text: string;
  #pos = 0;
  #depth = 0;

  constructor(text: string) {
    this.#text = text;
    if (text.charCodeAt(0) === 0xfeff) this.#pos = 1;
  }

  parseDocument(): JsonValue {
    const value = this.#value();
    this.#skipWhitespace();
    if (this.#pos < this.#text.length) this.#fail('unexpected data after the JSON value');
    return value;
  }

  #fail(message: string, at = this.#pos): never {
    throw new RemotingError('RMQ_BAD_PAYLOAD', `fastjson: ${message} at offset ${at}`);
  }

  #skipWhitespace(): void {
    const text = this.#text;
    let pos = this.#pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.#pos = pos;
  }

  #value(): JsonValue {
    this.#skipWhitespace();
    const text = this.#text;
    if (this.#pos >= text.length) this.#fail('unexpected end of input');
    const c = text[this.#pos]!;
    switch (c) {
      case '{':
        return this.#object();
      case '[':
        return this.#array();
      case '"':
      case "'":
        return this.#string();
      case 't':
        return this.#word('true', true);
      case 'f':
        return this.#word('false', false);
      case 'n':
        return this.#word('null', null);
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.#number();
        return this.#fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }

  #enter(): void {
    if (++this.#depth > MAX_JSON_DEPTH) this.#fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.#pos++; // the opening bracket
  }

  #object(): JsonObject {
    this.#enter();
    const object = new JsonObject();
    this.#skipWhitespace();
    if (this.#text[this.#pos] === '}') {
      this.#pos++;
    } else {
      for (;;) {
        const keyStart = this.#pos;
        const keyValue = this.#key();
        const key = canonicalKey(keyValue);
        if (isStructured(keyValue) && key.length > MAX_KEY_LENGTH)
          this.#fail(`object key longer than ${MAX_KEY_LENGTH}`, keyStart);
        this.#skipWhitespace();
        if (this.#text[this.#pos] !== ':') this.#fail("expected ':'");
        this.#pos++;
        object.set(keyValue, this.#value(), key);
        if (this.#endOfList('}')) break;
      }
    }
    this.#depth--;
    return object;
  }

  #array(): JsonValue[] {
    this.#enter();
    const array: JsonValue[] = [];
    this.#skipWhitespace();
    if (this.#text[this.#pos] === ']') {
      this.#pos++;
    } else {
      do {
        array.push(this.#value());
      } while (!this.#endOfList(']'));
    }
    this.#depth--;
    return array;
  }

  /** After a member: consumes ',' (false: more follow) or the closing bracket (true). */
  #endOfList(close: string): boolean {
    this.#skipWhitespace();
    const c = this.#text[this.#pos];
    if (c === ',') {
      this.#pos++;
      return false;
    }
    if (c === close) {
      this.#pos++;
      return true;
    }
    return this.#fail(c === undefined ? 'unexpected end of input' : `expected ',' or '${close}'`);
  }

  #key(): JsonValue {
    this.#skipWhitespace();
    const c = this.#text[this.#pos];
    if (c === '"' || c === "'") return this.#string();
    if (c === '{' || c === '[') return this.#value();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.#number();
    IDENTIFIER_PATTERN.lastIndex = this.#pos;
    const identifier = IDENTIFIER_PATTERN.exec(this.#text);
    if (identifier === null) return this.#fail('expected an object key');
    this.#pos += identifier[0].length;
    return identifier[0];
  }

  #word<T extends JsonValue>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#pos)) this.#fail(`expected ${word}`);
    this.#pos += word.length;
    return value;
  }

  #number(): number | bigint {
    const start = this.#pos;
    NUMBER_PATTERN.lastIndex = start;
    const match = NUMBER_PATTERN.exec(this.#text);
    if (match === null) return this.#fail('malformed number');
    const literal = match[0];
    if (literal.length > MAX_NUMBER_LENGTH) this.#fail('number literal too long');
    this.#pos += literal.length;
    const value = Number(literal);
    const isInteger = match[1] === undefined && match[2] === undefined;
    if (isInteger && !Number.isSafeInteger(value)) return BigInt(literal);
    if (!Number.isFinite(value)) this.#fail('number out of range', start);
    return value;
  }

  /** A single- or double-quoted string; escape-free runs are sliced, never appended char by char. */
  #string(): string {
    const text = this.#text;
    const start = this.#pos;
    const quote = text.charCodeAt(start);
    let pos = start + 1;
    let runStart = pos;
    let result = '';
    for (;;) {
      if (pos >= text.length) this.#fail('unterminated string', start);
      const c = text.charCodeAt(pos);
      if (c === quote) {
        this.#pos = pos + 1;
        return result + text.slice(runStart, pos);
      }
      if (c !== BACKSLASH) {
        pos++;
        continue;
      }
      result += text.slice(runStart, pos);
      const escaped = text[pos + 1];
      if (escaped === 'u') {
        const hex = text.slice(pos + 2, pos + 6);
        if (!HEX4_PATTERN.test(hex)) this.#fail('bad \\u escape', pos);
        result += String.fromCharCode(Number.parseInt(hex, 16));
        pos += 6;
      } else {
        const decoded = escaped === undefined ? undefined : SIMPLE_ESCAPES[escaped];
        if (decoded === undefined) this.#fail('bad escape', pos);
        result += decoded;
        pos += 2;
      }
      runStart = pos;
    }
  }
}

function badValue(what: string, expected: string, value: JsonValue | undefined): RemotingError {
  const got = value === undefined ? 'nothing' : value instanceof JsonObject ? 'an object' : typeof value;
  return new RemotingError('RMQ_BAD_PAYLOAD', `${what}: expected ${expected}, got ${got}`);
}

export function expectObject(value: JsonValue | undefined, what: string): JsonObject {
  if (value instanceof JsonObject) return value;
  throw badValue(what, 'an object', value);
}

export function expectArray(value: JsonValue | undefined, what: string): JsonValue[] {
  if (Array.isArray(value)) return value;
  throw badValue(what, 'an array', value);
}

export function expectString(value: JsonValue | undefined, what: string): string {
  if (typeof value === 'string') return value;
  throw badValue(what, 'a string', value);
}

const INTEGER_TEXT = /^-?[0-9]+$/;
const DECIMAL_TEXT = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/**
 * A numeric field that may arrive as a number or, from BrowserCompatible writers (J3), as a numeric
 * string. Integers beyond ±(2^53−1) are rejected rather than rounded: read those with `readLong`.
 */
export function readNumber(value: JsonValue | undefined, what: string): number {
  let result: number | undefined;
  if (typeof value === 'number') result = value;
  else if (typeof value === 'bigint') result = Number(value);
  else if (typeof value === 'string' && DECIMAL_TEXT.test(value) && value.length <= MAX_NUMBER_LENGTH) {
    result = Number(value);
  }
  if (result === undefined || !Number.isFinite(result)) throw badValue(what, 'a number', value);
  const isIntegerText = typeof value === 'bigint' || (typeof value === 'string' && INTEGER_TEXT.test(value));
  if (isIntegerText && !Number.isSafeInteger(result)) {
    throw new RemotingError(
      'RMQ_BAD_PAYLOAD',
      `${what}: ${value} does not fit a double exactly; read it as a long`,
    );
  }
  return result;
}

/** An exact 64-bit-style integer field given as a number, a bigint or an integer string. */
export function readLong(value: JsonValue | undefined, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && INTEGER_TEXT.test(value) && value.length <= MAX_NUMBER_LENGTH)
    return BigInt(value);
  throw badValue(what, 'an integer', value);
}
