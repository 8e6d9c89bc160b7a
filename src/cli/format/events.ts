/**
 * docker events' output (cli/command/system/events.go): the default line, and what a
 * --format template sees (the Go events.Message struct, so `{{.Actor.Attributes.name}}`,
 * `{{.TimeNano}}` and `{{json .}}` give what docker's give).
 */
import type { EventMessage } from '../../engine/engine.js';
import { goStruct, jsonStruct, parseTemplate, type Template } from './template.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Go's "2006-01-02T15:04:05.000000000Z07:00" in the local zone (docker's rfc3339NanoFixed). */
export function eventTime(nanos: bigint): string {
  const d = new Date(Number(nanos / 1_000_000n));
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  const frac = String(((nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).padStart(9, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}${zone}`;
}

/** docker's prettyPrintEvent: time, type, action, actor id, then the attributes sorted by key. */
export function prettyEvent(m: EventMessage): string {
  const time = m.timeNano !== 0n ? `${eventTime(m.timeNano)} ` : m.time !== 0 ? `${eventTime(BigInt(m.time) * 1_000_000_000n)} ` : '';
  const keys = Object.keys(m.Actor.Attributes).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const attrs = keys.length ? ` (${keys.map((k) => `${k}=${m.Actor.Attributes[k]}`).join(', ')})` : '';
  return `${time}${m.Type} ${m.Action} ${m.Actor.ID}${attrs}\n`;
}

/** What a template sees: Go's field names; `json` gives the wire form (json tags, struct order, omitempty). */
export function eventData(m: EventMessage): object {
  const actor = goStruct('events.Actor', { ID: m.Actor.ID, Attributes: m.Actor.Attributes });
  Object.defineProperty(actor, 'toJSON', { value: () => jsonStruct({ ID: m.Actor.ID, Attributes: m.Actor.Attributes }), enumerable: false });
  const data = goStruct('events.Message', {
    Status: m.status ?? '',
    ID: m.id ?? '',
    From: m.from ?? '',
    Type: m.Type,
    Action: m.Action,
    Actor: actor,
    Scope: m.scope ?? '',
    Time: m.time,
    TimeNano: m.timeNano,
  });
  const wire = () =>
    jsonStruct({
      ...(m.status ? { status: m.status } : {}),
      ...(m.id ? { id: m.id } : {}),
      ...(m.from ? { from: m.from } : {}),
      Type: m.Type,
      Action: m.Action,
      Actor: actor,
      ...(m.scope ? { scope: m.scope } : {}),
      ...(m.time ? { time: m.time } : {}),
      ...(m.timeNano ? { timeNano: m.timeNano } : {}),
    });
  Object.defineProperty(data, 'toJSON', { value: wire, enumerable: false });
  return data;
}

const EMPTY: EventMessage = { Type: '', Action: '', Actor: { ID: '', Attributes: {} }, scope: 'local', time: 0, timeNano: 0n };

/**
 * docker's makeTemplate: none for the default line, `json` is `{{json .}}`; the template is
 * run once on an empty message so a bad field fails before any event is read.
 */
export function eventsTemplate(format: string | undefined): Template | undefined {
  if (format === undefined || format === '') return undefined;
  const t = parseTemplate(format === 'json' ? '{{json .}}' : format);
  t.execute(eventData({ ...EMPTY, scope: '' as 'local' }));
  return t;
}
