/**
 * One event, in the Docker Engine API's shape (GET /events, moby's events.Message), and its
 * line in the event log: the same JSON, keys in the Go struct's order, one line of at most
 * LINE_MAX bytes. Container events carry the container's labels, `image` and `name` as
 * attributes (docker's LogContainerEventWithAttributes); `status`, `id` and `from` are the
 * deprecated fields docker still fills for container and image events.
 */
import { randomBytes } from 'node:crypto';

export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  /** container, image, volume, network, daemon, ... */
  Type: string;
  /** die, start, pull, ... (exec_create and exec_start carry the command: "exec_start: sh -c ..."). */
  Action: string;
  Actor: EventActor;
  scope: 'local';
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds: past 2^53, so a bigint (JSON.parse would round it). */
  timeNano: bigint;
}

/** What an emitter says; the log stamps the time. */
export interface NewEvent {
  Type: string;
  Action: string;
  Actor: EventActor;
}

/**
 * A line's bound: a single write(2) of a short line on an O_APPEND fd lands whole, and a
 * reader's buffer stays small. Longer attributes are cut (see encodeEvent).
 */
export const LINE_MAX = 4096;

/** Attributes never cut while there are others to cut (what identifies the event). */
const CORE = new Set(['name', 'image', 'exitCode', 'signal', 'execID', 'oldName', 'execDuration', 'imageID', 'imageRef']);

/** A container as its events name it: id, name, image (as the user gave it) and labels. */
export interface ContainerActor {
  id: string;
  name?: string;
  image?: string;
  labels?: Record<string, string>;
}

/** docker's LogContainerEventWithAttributes: labels first, then image, name and the event's own. */
export function containerEvent(action: string, c: ContainerActor, extra: Record<string, string> = {}): NewEvent {
  const attrs: Record<string, string> = { ...(c.labels ?? {}) };
  if (c.image) attrs.image = c.image;
  if (c.name !== undefined) attrs.name = c.name.replace(/^\/+/, '');
  return { Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { ...attrs, ...extra } } };
}

/** docker's LogImageEvent: the image's labels, and `name` when there is one. */
export function imageEvent(action: string, id: string, name?: string, labels: Record<string, string> = {}): NewEvent {
  return { Type: 'image', Action: action, Actor: { ID: id, Attributes: { ...labels, ...(name ? { name } : {}) } } };
}

/** docker's volume and network events: the object's id (a volume's name) and its attributes. */
export function objectEvent(type: 'volume' | 'network', action: string, id: string, attrs: Record<string, string>): NewEvent {
  return { Type: type, Action: action, Actor: { ID: id, Attributes: attrs } };
}

/** The full message at a time (unix nanoseconds), deprecated fields filled as docker's Events.Log does. */
export function stamp(e: NewEvent, nanos: bigint): EventMessage {
  const legacy =
    e.Type === 'container'
      ? { status: e.Action, id: e.Actor.ID, ...(e.Actor.Attributes.image ? { from: e.Actor.Attributes.image } : {}) }
      : e.Type === 'image'
        ? { status: e.Action, id: e.Actor.ID }
        : {};
  return { ...legacy, Type: e.Type, Action: e.Action, Actor: e.Actor, scope: 'local', time: Number(nanos / 1_000_000_000n), timeNano: nanos };
}

/** The JSON text, keys in Go's order (the struct's; Attributes as given), timeNano exact. */
function jsonText(m: EventMessage, times: { time: string; timeNano: string }): string {
  const head = {
    ...(m.status ? { status: m.status } : {}),
    ...(m.id ? { id: m.id } : {}),
    ...(m.from ? { from: m.from } : {}),
    Type: m.Type,
    Action: m.Action,
    Actor: { ID: m.Actor.ID, Attributes: m.Actor.Attributes },
    scope: m.scope,
  };
  return `${JSON.stringify(head).slice(0, -1)},"time":${times.time},"timeNano":${times.timeNano}}`;
}

/**
 * Cuts attributes until `render` fits in LINE_MAX bytes: first every non-core value to 128
 * characters, then non-core attributes are dropped (the last in key order first), then core
 * values are cut. An event stays recognisable (type, action, id, name) however big its labels.
 */
function fit(m: EventMessage, render: (m: EventMessage) => string): string {
  const size = (x: EventMessage) => Buffer.byteLength(render(x)) + 1;
  if (size(m) <= LINE_MAX) return render(m);
  const attrs = { ...m.Actor.Attributes };
  const at = (a: Record<string, string>): EventMessage => ({ ...m, Actor: { ...m.Actor, Attributes: a } });
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);
  for (const k of Object.keys(attrs)) if (!CORE.has(k)) attrs[k] = cut(attrs[k]!, 128);
  const extra = Object.keys(attrs).filter((k) => !CORE.has(k)).sort().reverse();
  while (size(at(attrs)) > LINE_MAX && extra.length > 0) delete attrs[extra.shift()!];
  for (let n = 512; size(at(attrs)) > LINE_MAX && n >= 16; n /= 2) for (const k of Object.keys(attrs)) attrs[k] = cut(attrs[k]!, n);
  const out = at(attrs);
  // Only an id or action of kilobytes is left: cut the line's own fields too (never expected).
  return size(out) <= LINE_MAX ? render(out) : render({ ...out, Action: cut(out.Action, 64), Actor: { ID: cut(out.Actor.ID, 128), Attributes: {} }, ...(out.id ? { id: cut(out.id, 128) } : {}), ...(out.from ? { from: cut(out.from, 128) } : {}) });
}

/** The event's line in the log, newline included, at most LINE_MAX bytes. */
export function encodeEvent(m: EventMessage): string {
  return `${fit(m, (x) => jsonText(x, { time: String(x.time), timeNano: String(x.timeNano) }))}\n`;
}

/**
 * A line for the monitor to finish: the event as TypeScript knows it at create time, with
 * places the monitor fills in when the event happens. A place is byte 0x01 and a key: `t`
 * the unix seconds, `n` the nanoseconds, and the keys of `fill` (exitCode: `x`, ...), each
 * standing where `fill` names it in the attributes. JSON text never holds a raw 0x01 (JSON
 * escapes control characters), so the monitor needs no parser: it copies bytes and expands
 * places (native/monitor/events.c).
 */
export function monitorTemplate(e: NewEvent, fill: Record<string, string> = {}): string {
  // A random marker stands for each place while the JSON is made, then becomes 0x01 + key.
  const nonce = randomBytes(8).toString('hex');
  const mark = (k: string) => `@${nonce}-${k}@`;
  const attrs = { ...e.Actor.Attributes };
  for (const [name, key] of Object.entries(fill)) attrs[name] = mark(key);
  const m = stamp({ ...e, Actor: { ...e.Actor, Attributes: attrs } }, 0n);
  const line = `${fit(m, (x) => jsonText(x, { time: `"${mark('t')}"`, timeNano: `"${mark('n')}"` }))}\n`;
  return line.replace(new RegExp(`"?@${nonce}-(.)@"?`, 'g'), (whole, key: string) => {
    // Numbers stand unquoted (time, timeNano); attribute values stay strings.
    const quoted = key === 't' || key === 'n';
    return quoted ? `\u0001${key}` : whole.replace(`@${nonce}-${key}@`, `\u0001${key}`);
  });
}

/** The longest a place expands to (a 64-bit number): the monitor's line stays under LINE_MAX with this much room. */
export const PLACE_MAX = 20;

function isEvent(v: unknown): v is Omit<EventMessage, 'timeNano'> & { timeNano?: number } {
  const m = v as EventMessage;
  return typeof m === 'object' && m !== null && typeof m.Type === 'string' && typeof m.Action === 'string' && typeof m.Actor?.ID === 'string';
}

function parseOne(text: string): EventMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isEvent(v)) return undefined;
  // The exact nanoseconds from the text: the raw key cannot occur inside a JSON string.
  const nano = /"timeNano":(\d+)/.exec(text)?.[1];
  const timeNano = nano !== undefined ? BigInt(nano) : BigInt(Math.trunc(Number(v.time ?? 0))) * 1_000_000_000n;
  return { ...v, Actor: { ID: v.Actor.ID, Attributes: v.Actor.Attributes ?? {} }, scope: 'local', time: Number(v.time ?? Number(timeNano / 1_000_000_000n)), timeNano };
}

/**
 * A line of the log back into an event, or undefined. A writer killed inside its write(2)
 * can leave the start of a line without its newline, and the next writer's line is then
 * glued to it: the whole event at the end of such a line is still found (a raw `{"` starts
 * an object, never text inside a string, so each is tried as the start of the event).
 */
export function parseEventLine(line: string): EventMessage | undefined {
  const whole = parseOne(line);
  if (whole) return whole;
  for (let i = line.indexOf('{"', 1); i > 0; i = line.indexOf('{"', i + 1)) {
    const m = parseOne(line.slice(i));
    if (m) return m;
  }
  return undefined;
}
