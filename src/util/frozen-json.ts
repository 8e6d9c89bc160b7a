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

/** A frozen object made from another by a new value of its last key: the first of the line, and that key. */
const derived = new WeakMap<object, { root: object; key: string }>();
/** A root's encoding up to its last key's value (`{...,"Status":`): what each object derived from it starts with. */
const prefixes = new WeakMap<object, Buffer | null>();

/**
 * `{...base, [key]: value}`, frozen, where `key` is `base`'s last key: a container summary
 * whose Status ("Up 5 seconds") moved on with the clock while nothing else did. Its encoding
 * is the first one's up to that value, then the new value: one JSON.stringify of a short
 * string instead of the whole object's, every second, for every young container.
 */
export function frozenWith<T extends object, K extends keyof T & string>(base: T, key: K, value: T[K]): T {
  const keys = Object.keys(base);
  const v = frozen({ ...base, [key]: value });
  if (keys.at(-1) === key && encoded.has(base)) derived.set(v, { root: derived.get(base)?.root ?? base, key });
  return v;
}

function encode(v: object): Buffer {
  let b = encoded.get(v);
  if (b === undefined) return Buffer.from(JSON.stringify(v));
  if (b === null) encoded.set(v, (b = encodeDerived(v) ?? Buffer.from(JSON.stringify(v))));
  return b;
}

function encodeDerived(v: object): Buffer | undefined {
  const d = derived.get(v);
  if (!d) return undefined;
  let prefix = prefixes.get(d.root);
  if (prefix === undefined) {
    // The root's JSON ends with `"key":<its value>}`: all before that value is shared.
    const whole = encode(d.root);
    const tail = Buffer.from(`${JSON.stringify((d.root as Record<string, unknown>)[d.key])}}`);
    const ok = whole.length > tail.length && whole.subarray(whole.length - tail.length).equals(tail);
    prefix = ok ? whole.subarray(0, whole.length - tail.length) : null;
    prefixes.set(d.root, prefix);
  }
  if (prefix === null) return undefined;
  return Buffer.concat([prefix, Buffer.from(`${JSON.stringify((v as Record<string, unknown>)[d.key])}}`)]);
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
