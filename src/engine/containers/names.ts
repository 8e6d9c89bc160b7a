/**
 * Container ids and names as docker makes and reads them: a 64-hex random id, shown as its
 * first 12; a name given with --name (docker's pattern, stored with a leading "/") or made
 * up as adjective_surname; lookups by full id, unique id prefix, or name.
 */
import { randomBytes } from 'node:crypto';
import { BrigError } from '../../errors/index.js';

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

/** docker's restriction on container names. */
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new BrigError('INVALID_ARGUMENT', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { field: '--name' });
  }
  return name.replace(/^\//, '');
}

// Our own lists (docker's idea, not its words): moods, and people who built computing.
const ADJECTIVES = [
  'agile', 'amazing', 'bold', 'brave', 'bright', 'busy', 'calm', 'careful', 'clever', 'cool', 'crisp', 'curious',
  'daring', 'deft', 'eager', 'earnest', 'fair', 'fearless', 'festive', 'fond', 'frank', 'gentle', 'glad', 'grand',
  'happy', 'hardy', 'honest', 'humble', 'jolly', 'keen', 'kind', 'lively', 'loyal', 'lucid', 'merry', 'mellow',
  'modest', 'neat', 'nimble', 'noble', 'patient', 'plucky', 'polite', 'proud', 'quick', 'quiet', 'rapid', 'ready',
  'serene', 'sharp', 'shy', 'sleepy', 'smart', 'snappy', 'solid', 'spry', 'steady', 'stoic', 'sunny', 'swift',
  'tender', 'tidy', 'upbeat', 'vivid', 'warm', 'wise', 'witty', 'zealous',
];
const SURNAMES = [
  'allen', 'babbage', 'backus', 'bartik', 'bell', 'berners_lee', 'borg', 'cerf', 'clarke', 'codd', 'conway',
  'corbato', 'dijkstra', 'easley', 'engelbart', 'estrin', 'floyd', 'goldberg', 'goldwasser', 'hamilton', 'hamming',
  'hennessy', 'hoare', 'holberton', 'hollerith', 'hopper', 'kahan', 'kahn', 'karp', 'kay', 'kernighan', 'knuth',
  'lamport', 'lampson', 'liskov', 'lovelace', 'mccarthy', 'metcalfe', 'milner', 'minsky', 'moler', 'naur',
  'neumann', 'noyce', 'nygaard', 'patterson', 'perlman', 'pike', 'rabin', 'ritchie', 'rivest', 'sammet',
  'shamir', 'shannon', 'shaw', 'spaerck_jones', 'stallman', 'stonebraker', 'sutherland', 'tanenbaum', 'tarjan',
  'thompson', 'torvalds', 'turing', 'ullman', 'valiant', 'vixie', 'wilkes', 'wing', 'wirth', 'yao',
];

/** A made-up name; `taken` says which are in use (docker retries the same way). */
export function generateName(taken: (name: string) => boolean): string {
  const pick = (list: string[]) => list[randomBytes(2).readUInt16LE(0) % list.length]!;
  for (let i = 0; i < 64; i++) {
    const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}${i < 8 ? '' : String(i)}`;
    if (!taken(name)) return name;
  }
  throw new BrigError('INTERNAL', 'no free container name after 64 tries');
}

/**
 * Finds one container by what a user typed: an exact id, an exact name (with or without
 * the leading "/"), or a unique id prefix — docker's order.
 */
export function resolveContainer<T extends { id: string; name: string }>(all: T[], ref: string): T {
  const byId = all.find((c) => c.id === ref);
  if (byId) return byId;
  const name = ref.replace(/^\//, '');
  const byName = all.find((c) => c.name === name);
  if (byName) return byName;
  if (/^[0-9a-f]+$/.test(ref)) {
    const matches = all.filter((c) => c.id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new BrigError('AMBIGUOUS_ID', `multiple containers found with provided prefix: ${ref}`, { hint: 'give more of the id' });
    }
  }
  throw new BrigError('CONTAINER_NOT_FOUND', `No such container: ${ref}`);
}
