/**
 * docker's event filters (moby daemon/events/filter.go) and its event times (--since,
 * --until). Every key given must hold: type, scope exactly; event exactly (by prefix when a
 * value is exec_create, exec_start or health_status, whose actions carry more text);
 * container, volume, network, daemon, plugin, ... by the actor's ID or name, exact or by
 * prefix (so a container filter leaves out every event that is not that container's);
 * image by ID or name, with or without its tag; label as docker's KEY or KEY=VALUE list.
 * Keys docker does not know are not refused, as docker refuses none here.
 */
import { BrigError } from '../../errors/index.js';
import { familiarReference, parseReference } from '../../image/reference.js';
import { type FilterMap, Filters, parseUntil } from '../../util/docker-filters.js';
import type { EventMessage } from './message.js';

/** Object types docker matches by the actor's ID or name attribute. */
const BY_NAME = ['daemon', 'container', 'plugin', 'volume', 'network', 'node', 'service', 'secret', 'config'];

/** Go's FuzzyMatch: no values, or one equal to `source` or a prefix of it. */
function fuzzy(f: Filters, key: string, source: string): boolean {
  const values = f.get(key);
  return values.length === 0 || values.some((v) => source.startsWith(v));
}

/** reference.FamiliarName: the repository without tag or digest, as the user writes it ("busybox"). */
function stripTag(image: string): string {
  try {
    const ref = parseReference(image, { defaultTag: false });
    return familiarReference({ ...ref, tag: undefined, digest: undefined } as typeof ref);
  } catch {
    return image;
  }
}

export function eventFilter(raw: FilterMap | undefined): (m: EventMessage) => boolean {
  const f = new Filters(raw);
  const loose = f.get('event').some((v) => v === 'health_status' || v === 'exec_create' || v === 'exec_start');
  return (m) => {
    const attrs = m.Actor.Attributes;
    const image = (m.Type === 'image' ? attrs.name : attrs.image) ?? '';
    return (
      (loose ? fuzzy(f, 'event', m.Action) : f.exactMatch('event', m.Action)) &&
      f.exactMatch('type', m.Type) &&
      (!f.contains('scope') || f.exactMatch('scope', m.scope)) &&
      BY_NAME.every((t) => fuzzy(f, t, m.Actor.ID) || fuzzy(f, t, attrs.name ?? '')) &&
      (f.exactMatch('image', m.Actor.ID) || f.exactMatch('image', image) || f.exactMatch('image', stripTag(m.Actor.ID)) || f.exactMatch('image', stripTag(image))) &&
      (!f.contains('label') || f.matchKVList('label', attrs))
    );
  };
}

/**
 * docker's event timestamps (its CLI's timestamp.GetTimestamp, then the daemon's
 * parsing): unix seconds with up to nine fraction digits, a Go duration back from `now`
 * ("10m", "1h30m"), or an RFC 3339 time or its shorter forms. Unix nanoseconds.
 */
export function parseEventTime(value: string, now: bigint, field: string): bigint {
  const secs = /^(\d+)(?:\.(\d{0,9}))?$/.exec(value);
  if (secs) return BigInt(secs[1]!) * 1_000_000_000n + BigInt((secs[2] ?? '').padEnd(9, '0'));
  let ms: number;
  try {
    ms = parseUntil(value, Number(now / 1_000_000n));
  } catch (e) {
    throw new BrigError('INVALID_ARGUMENT', `invalid ${field} timestamp: ${(e as Error).message}`, { field: `--${field}` });
  }
  // Date keeps milliseconds: the rest of an RFC 3339 fraction is added back.
  const frac = /T[^.]*\.(\d+)/.exec(value)?.[1];
  const extra = frac !== undefined && frac.length > 3 ? BigInt(frac.slice(3, 9).padEnd(6, '0')) : 0n;
  return BigInt(ms) * 1_000_000n + extra;
}
