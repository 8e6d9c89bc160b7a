/**
 * One compose file read with the `yaml` package (YAML 1.2, merge keys `<<` for fragments, as
 * compose allows), keeping where each value is: a message about `services.web.ports[0]` names
 * the file and the line. compose's `!reset` and `!override` tags are kept as markers for the
 * merge (merge.ts). Duplicate keys are an error, as in compose.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Scalar, type ScalarTag, type CollectionTag, type YAMLMap, type YAMLSeq } from 'yaml';
import { BrigError } from '../errors/index.js';

/** `!reset VALUE`: the attribute goes back to its default in the merged model. */
export class Reset {
  readonly reset = true;
}

/** `!override VALUE`: the attribute replaces, rather than merges with, the earlier file's. */
export class Override {
  constructor(readonly value: unknown) {}
}

const resetScalar: ScalarTag = { tag: '!reset', resolve: () => new Reset() };
type Marked = { brigOverride?: boolean; brigReset?: boolean };
const resetSeq: CollectionTag = {
  tag: '!reset',
  collection: 'seq',
  resolve: (seq) => {
    (seq as YAMLSeq & Marked).brigReset = true;
    return seq;
  },
};
const resetMap: CollectionTag = {
  tag: '!reset',
  collection: 'map',
  resolve: (map) => {
    (map as YAMLMap & Marked).brigReset = true;
    return map;
  },
};
const overrideScalar: ScalarTag = { tag: '!override', resolve: (v: string) => new Override(v) };
const overrideSeq: CollectionTag = {
  tag: '!override',
  collection: 'seq',
  resolve: (seq) => {
    (seq as YAMLSeq & Marked).brigOverride = true;
    return seq;
  },
};
const overrideMap: CollectionTag = {
  tag: '!override',
  collection: 'map',
  resolve: (map) => {
    (map as YAMLMap & Marked).brigOverride = true;
    return map;
  },
};

export interface ComposeFile {
  path: string;
  /** The file as plain data (markers for !reset/!override). */
  data: Record<string, unknown>;
  /** Line (1-based) of the value at a path (`['services','web','ports',0]`), or the nearest parent's. */
  lineOf(path: (string | number)[]): number | undefined;
}

export function parseComposeYaml(text: string, file: string): ComposeFile {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, {
    merge: true,
    uniqueKeys: true,
    lineCounter: lc,
    prettyErrors: false,
    customTags: [resetScalar, resetSeq, resetMap, overrideScalar, overrideSeq, overrideMap],
  });
  const err = doc.errors[0];
  if (err) {
    const line = lc.linePos(err.pos[0]).line;
    throw new BrigError('INVALID_CONFIG', `${file}:${line}: ${err.message.split('\n')[0]}`, { path: file });
  }
  const data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  markOverrides(doc.contents, data);
  if (data === null || data === undefined) return { path: file, data: {}, lineOf: () => undefined };
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new BrigError('INVALID_CONFIG', `${file}: the top level must be a mapping`, { path: file });
  }
  return {
    path: file,
    data: data as Record<string, unknown>,
    lineOf: lineFinder(doc, lc),
  };
}

/** Line (1-based) of the value at a path in a parsed document, or of its nearest parent. */
export function lineFinder(doc: Document, lc: LineCounter): (path: (string | number)[]) => number | undefined {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Scalar | undefined;
      const at = node?.range?.[0];
      if (at !== undefined) return lc.linePos(at).line;
    }
    return undefined;
  };
}

/** Turns values whose YAML collection carried `!override` or `!reset` into the markers. */
function markOverrides(node: unknown, data: unknown): void {
  if (isMap(node) && data && typeof data === 'object') {
    for (const pair of node.items) {
      const key = (pair.key as Scalar | undefined)?.value;
      if (typeof key !== 'string' && typeof key !== 'number') continue;
      const rec = data as Record<string, unknown>;
      const value = pair.value as Marked | null;
      if (value?.brigReset) rec[String(key)] = new Reset();
      else if (value?.brigOverride) rec[String(key)] = new Override(rec[String(key)]);
      else markOverrides(pair.value, rec[String(key)]);
    }
  } else if (isSeq(node) && Array.isArray(data)) {
    node.items.forEach((item, i) => markOverrides(item, data[i]));
  }
}
