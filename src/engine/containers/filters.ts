/**
 * docker's container filters, written once and pure: which containers `ps` lists (GET
 * /containers/json, moby daemon/list.go) and which `container prune` removes (POST
 * /containers/prune, daemon/prune.go), with the matching rules of docker's filters.Args.
 *
 *   Filters        key → values, as the API's `filters` parameter (or its older {value: true} form)
 *   planList       checks the keys and values, resolves before/since: docker's errors, in docker's order
 *   selectContainers  docker's walk over the containers, newest first: before, since, all, name,
 *                  id, label, then the limit, then exited, status, health, volume, ancestor,
 *                  network, publish/expose
 *   planPrune / prunable   until, label, label! for prune
 *
 * Rules kept from docker, surprising or not:
 * - name and id values are regular expressions matched anywhere (`name=web` lists "myweb2";
 *   `name=^web$` one), an exact value always matches, a value that does not compile matches nothing.
 *   The name is tried with and without its "/". id values first pick containers by unique id
 *   prefix: a prefix two containers share picks neither.
 * - label values all must hold (`k` has the key, `k=v` that value); other keys: any value may.
 * - a status filter lists stopped containers without -a; exited needs -a (and a container
 *   that ran: a created one has no exit code).
 * - before and since take a full id or a name, not an id prefix (docker's view.Get).
 * - an ancestor that names no image is no error: it matches nothing.
 * - the limit (-n, -l) counts what is listed, newest first, and lists stopped containers too.
 */
import { BrigError } from '../../errors/index.js';
import { type FilterMap, Filters, goRegExp, invalidFilter, parseUntil } from '../../util/docker-filters.js';

export { type FilterMap, Filters, goRegExp, parseUntil };
import type { ContainerStatus } from './state.js';


const STATES: ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];
const HEALTHS = ['none', 'starting', 'healthy', 'unhealthy'];


/** Go's %v of a []string: [a b]. */
const goList = (v: string[]) => `[${v.join(' ')}]`;

/** What the filters look at in one container: the engine maps its records onto this. */
export interface FilterableContainer {
  id: string;
  /** Without docker's leading "/". */
  name: string;
  /** ISO 8601 (the list is sorted on it, newest first). */
  created: string;
  state: ContainerStatus;
  /** docker's State.Running: running, paused or restarting. */
  running: boolean;
  exitCode: number;
  /** '' when it never started. */
  startedAt: string;
  labels: Record<string, string>;
  imageId: string;
  /** Networks as NetworkSettings.Networks keys them, with their ids ('' for none and host). */
  networks: { name: string; id: string }[];
  /** "none" without a health check. */
  health: string;
  mounts: { name: string; source: string; destination: string }[];
  ports: { privatePort: number; publicPort?: number; type: string }[];
}

export const LIST_FILTERS = ['ancestor', 'before', 'exited', 'id', 'isolation', 'label', 'name', 'status', 'health', 'since', 'volume', 'network', 'is-task', 'publish', 'expose'] as const;

/** A checked list request: what selectContainers needs besides the ancestor images. */
export interface ListPlan {
  filters: Filters;
  exited: number[];
  /** A status filter lists stopped containers as -a does. */
  all: boolean;
  taskFilter: boolean;
  before?: FilterableContainer;
  since?: FilterableContainer;
  /** Image references of the ancestor filter, for the engine to resolve (see imageFamily). */
  ancestors: string[];
  publish: Set<string>;
  expose: Set<string>;
}

/** strconv.Atoi's error text. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** docker's idOrNameFilter: a full id, else an exact name (no id prefix). */
function idOrName(all: FilterableContainer[], value: string): FilterableContainer {
  const name = value.replace(/^\//, '');
  const found = all.find((c) => c.id === value) ?? all.find((c) => c.name === name);
  if (!found) throw new BrigError('CONTAINER_NOT_FOUND', `No such container: ${value}`);
  return found;
}

/** A port number as docker's network.ParsePortRange reads it. */
function portNumber(s: string, which: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw new Error(`invalid ${which} port '${s}': invalid port number`);
  return Number(s);
}

/** publish/expose values ("80", "80/udp", "8000-8010/tcp") as "port/proto" keys. */
function portKeys(key: string, value: string, into: Set<string>): void {
  if (value.includes(':')) throw invalidFilter(`filter for '${key}' should not contain ':': ${value}`);
  try {
    if (value === '') throw new Error('invalid port range: value is empty');
    const [range = '', proto = ''] = value.split('/', 2);
    const dash = range.indexOf('-');
    const start = portNumber(dash < 0 ? range : range.slice(0, dash), 'start');
    const end = dash < 0 || range.slice(0, dash) === range.slice(dash + 1) ? start : portNumber(range.slice(dash + 1), 'end');
    if (end < start) throw new Error(`invalid port range: ${value}`);
    for (let p = start; p <= end; p++) into.add(`${p}/${proto === '' ? 'tcp' : proto.toLowerCase()}`);
  } catch (e) {
    throw invalidFilter(`error while looking up for ${key} ${value}: ${(e as Error).message}`);
  }
}

/**
 * Checks a list request's filters with docker's errors, in docker's order (unknown key,
 * exited, status, is-task, health, before, since, publish, expose). `all` is every
 * container, for before and since.
 */
export function planList(raw: FilterMap | undefined, all: FilterableContainer[]): ListPlan {
  const f = new Filters(raw);
  f.validate(LIST_FILTERS);
  const exited = f.get('exited').map((v) => {
    try {
      return atoi(v);
    } catch (e) {
      throw invalidFilter(`invalid filter 'exited=${v}': ${(e as Error).message}`);
    }
  });
  for (const v of f.get('status')) {
    if (!(STATES as string[]).includes(v)) throw invalidFilter(`invalid filter 'status=${v}': invalid value for state (${v}): must be one of ${STATES.join(', ')}`);
  }
  if (f.contains('is-task')) {
    const v = f.get('is-task');
    const isFalse = v.includes('0') || v.includes('false');
    const isTrue = v.includes('1') || v.includes('true');
    if (isFalse === isTrue) throw invalidFilter(v.length === 0 ? `invalid filter 'is-task'` : `invalid filter 'is-task=${goList(v)}'`);
  }
  for (const v of f.get('health')) {
    if (!HEALTHS.includes(v)) throw invalidFilter(`invalid filter 'health=${v}': invalid value for health (${v}): must be one of ${HEALTHS.join(', ')}`);
  }
  // docker walks a map; when a key is given twice the last value given wins here.
  const before = f.get('before').map((v) => idOrName(all, v)).at(-1);
  const since = f.get('since').map((v) => idOrName(all, v)).at(-1);
  const publish = new Set<string>();
  const expose = new Set<string>();
  for (const v of f.get('publish')) portKeys('publish', v, publish);
  for (const v of f.get('expose')) portKeys('expose', v, expose);
  return {
    filters: f,
    exited,
    all: f.contains('status'),
    taskFilter: f.contains('is-task'),
    ...(before ? { before } : {}),
    ...(since ? { since } : {}),
    ancestors: f.get('ancestor'),
    publish,
    expose,
  };
}

/** Is-task: brig runs no swarm tasks, so only is-task=false lists anything. */
function isTaskWanted(f: Filters): boolean {
  return f.get('is-task').some((v) => v === '1' || v === 'true');
}

/**
 * docker's list walk. `containers` is every container; `ancestorImages` the image ids the
 * ancestor filter allows (the images it names and their descendants), undefined without one.
 */
export function selectContainers<T extends FilterableContainer>(
  containers: T[],
  plan: ListPlan,
  opts: { all?: boolean; limit?: number; ancestorImages?: ReadonlySet<string> } = {},
): T[] {
  const f = plan.filters;
  const all = opts.all === true || plan.all;
  const limit = opts.limit ?? -1;
  const newestFirst = [...containers].sort((a, b) => b.created.localeCompare(a.created));
  // Names and ids first narrow the list (docker's filterByNameIDMatches).
  const names = f.get('name');
  const ids = f.get('id');
  let candidates = newestFirst;
  if (names.length + ids.length > 0) {
    const picked = new Set<string>();
    for (const id of ids) {
      const hits = id === '' ? [] : newestFirst.filter((c) => c.id.startsWith(id));
      if (hits.length === 1) picked.add(hits[0]!.id);
    }
    if (names.length > 0) {
      for (const c of newestFirst) {
        if (ids.length > 0 && !picked.has(c.id)) continue;
        if (f.match('name', `/${c.name}`) || f.match('name', c.name)) picked.add(c.id);
      }
    }
    candidates = newestFirst.filter((c) => picked.has(c.id));
  }
  let before = plan.before;
  const out: T[] = [];
  for (const c of candidates) {
    if (before) {
      if (c.id === before.id) before = undefined;
      continue;
    }
    if (plan.since && c.id === plan.since.id) break;
    if (!c.running && !all && limit <= 0) continue;
    if (!f.match('name', `/${c.name}`) && !f.match('name', c.name)) continue;
    if (!f.match('id', c.id)) continue;
    if (plan.taskFilter && isTaskWanted(f)) continue;
    if (!f.matchKVList('label', c.labels)) continue;
    if (limit > 0 && out.length === limit) break;
    if (plan.exited.length > 0 && !(plan.exited.includes(c.exitCode) && !c.running && c.startedAt !== '')) continue;
    if (!f.match('status', c.state)) continue;
    if (!f.exactMatch('health', c.health)) continue;
    if (f.contains('volume')) {
      const wanted = f.get('volume');
      if (!c.mounts.some((m) => wanted.includes(m.destination) || wanted.includes(m.name !== '' ? m.name : m.source))) continue;
    }
    if (opts.ancestorImages && !opts.ancestorImages.has(c.imageId)) continue;
    if (f.contains('network')) {
      const wanted = f.get('network');
      // dockerd's: the name exactly, or a prefix of the network's id.
      if (!c.networks.some((n) => wanted.some((w) => n.name === w || (n.id !== '' && w !== '' && n.id.startsWith(w))))) continue;
    }
    if (plan.publish.size > 0 || plan.expose.size > 0) {
      if (!c.ports.some((p) => plan.publish.has(`${p.publicPort ?? 0}/${p.type}`) || plan.expose.has(`${p.privatePort}/${p.type}`))) continue;
    }
    out.push(c);
  }
  return out;
}

/**
 * docker's ancestor filter: the image named and every image descended from it. docker knows
 * descendants by the parent link `build` and `commit` record; brig records none, so a
 * descendant is an image whose layers begin with all of the ancestor's (what `commit` or
 * a FROM makes). An image without layers has no descendants (every image would be one).
 */
export function imageFamily(ancestor: { id: string; layers: string[] }, images: { id: string; layers: string[] }[]): string[] {
  const family = [ancestor.id];
  if (ancestor.layers.length === 0) return family;
  for (const i of images) {
    if (i.id === ancestor.id || i.layers.length < ancestor.layers.length) continue;
    if (ancestor.layers.every((l, n) => i.layers[n] === l)) family.push(i.id);
  }
  return family;
}

// ---------------------------------------------------------------- prune

export const PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

export interface PrunePlan {
  filters: Filters;
  /** Unix ms: containers created after it stay. */
  until?: number;
}

/** Checks a prune request's filters (label, label!, until) with docker's errors. */
export function planPrune(raw: FilterMap | undefined, now: number): PrunePlan {
  const f = new Filters(raw);
  f.validate(PRUNE_FILTERS);
  if (!f.contains('until')) return { filters: f };
  const until = f.get('until');
  if (until.length > 1) throw invalidFilter('more than one until filter specified');
  try {
    return { filters: f, until: parseUntil(until[0] ?? '', now) };
  } catch (e) {
    throw invalidFilter((e as Error).message);
  }
}

/** docker's prune choice: a stopped container, created by `until`, its labels matching label and not label!. */
export function prunable(c: Pick<FilterableContainer, 'running' | 'state' | 'created' | 'labels'>, plan: PrunePlan): boolean {
  if (c.running || c.state === 'removing') return false;
  if (plan.until !== undefined && Date.parse(c.created) > plan.until) return false;
  if (!plan.filters.matchKVList('label', c.labels)) return false;
  if (plan.filters.contains('label!') && plan.filters.matchKVList('label!', c.labels)) return false;
  return true;
}
