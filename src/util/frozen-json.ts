/**
 * JSON for objects that are never changed once made, encoded once.
 *
 * `brig serve` answers GET /containers/json from listings it keeps (the engine's listing
 * cache): between two requests most containers' summaries are the very same objects, so
 * their JSON is too. Encoding a 100-container list afresh (JSON.stringify, then UTF-8 for the
 * socket, ~40 KB) was a fifth of the server's time for each request. An object handed to
 * `frozen` is frozen (a later write throws rather than going unseen) and its encoding is kept
 * by identity, for as long as the object lives; `jsonBuffer` reuses it where it meets one at
 * the top level or as an element of a top-level array.
 */
const encoded = new WeakMap<object, Buffer | null>();

/** Marks `v` as never to change again (Object.freeze) and its JSON as worth keeping. */
export function frozen<T extends object>(v: T): T {
  encoded.set(Object.freeze(v), null);
  return v;
}

function encode(v: object): Buffer {
  let b = encoded.get(v);
  if (b === undefined) return Buffer.from(JSON.stringify(v));
  if (b === null) encoded.set(v, (b = Buffer.from(JSON.stringify(v))));
  return b;
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** JSON.stringify(value) + `end`, as UTF-8, with the kept encodings of frozen objects. */
export function jsonBuffer(value: unknown, end = ''): Buffer {
  if (Array.isArray(value) && value.some((x) => typeof x === 'object' && x !== null && encoded.has(x))) {
    const parts: Buffer[] = [OPEN];
    value.forEach((x, i) => {
      if (i > 0) parts.push(COMMA);
      // As JSON.stringify writes array elements: undefined and functions as null.
      parts.push(typeof x === 'object' && x !== null ? encode(x) : Buffer.from(JSON.stringify(x) ?? 'null'));
    });
    parts.push(CLOSE);
    if (end) parts.push(Buffer.from(end));
    return Buffer.concat(parts);
  }
  if (typeof value === 'object' && value !== null && encoded.has(value)) return end ? Buffer.concat([encode(value), Buffer.from(end)]) : encode(value);
  return Buffer.from(`${JSON.stringify(value)}${end}`);
}
