/**
 * Kubernetes manifests as `kube play` reads them: a YAML stream of documents (`---`), each a
 * resource with apiVersion, kind and metadata.name, read with the `yaml` package as compose
 * files are (yaml-file.ts), keeping where each value is. Every error about a document names
 * the file, the document (1-based, as `kubectl` counts them), the line and the path:
 *
 *   pod.yaml: document 2, line 14: spec.containers[0].foo: not supported by brig kube play
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { BrigError } from '../../errors/index.js';
import { lineFinder } from '../yaml-file.js';

export type Dict = Record<string, unknown>;

/** The name a manifest read from stdin (`kube play -`) goes by, in messages and labels. */
export const STDIN = 'stdin';

/** The kinds kube play makes something of, with the apiVersion each must carry. */
export const KINDS: Record<string, string[]> = {
  Pod: ['v1'],
  Deployment: ['apps/v1'],
  ConfigMap: ['v1'],
  Secret: ['v1'],
  PersistentVolumeClaim: ['v1'],
};

export interface KubeDocument {
  kind: string;
  name: string;
  data: Dict;
  /** 1-based index in the stream (empty documents counted, as they are separators). */
  index: number;
  /** An error about a field of this document (`spec.containers[0].image`), located. */
  error(field: string, message: string, code?: 'INVALID_CONFIG' | 'UNSUPPORTED_FIELD', hint?: string): BrigError;
  /** `file: document N, line L: field` for a warning. */
  where(field: string): string;
}

export interface KubeFile {
  path: string;
  documents: KubeDocument[];
}

function parts(field: string): (string | number)[] {
  return [...field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

export function parseManifests(text: string, file: string): KubeFile {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { version: '1.1', lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) throw new BrigError('INVALID_CONFIG', `${file}: not a YAML stream`, { path: file });
  const out: KubeDocument[] = [];
  docs.forEach((doc, i) => {
    const index = i + 1;
    const err = doc.errors[0];
    if (err) {
      const line = lc.linePos(err.pos[0]).line;
      throw new BrigError('INVALID_CONFIG', `${file}: document ${index}, line ${line}: ${err.message.split('\n')[0]}`, { path: file });
    }
    const lineOf = lineFinder(doc, lc);
    const where = (field: string) => {
      const line = lineOf(parts(field));
      return `${file}: document ${index}${line ? `, line ${line}` : ''}${field ? `: ${field}` : ''}`;
    };
    const error = (field: string, message: string, code: 'INVALID_CONFIG' | 'UNSUPPORTED_FIELD' = 'INVALID_CONFIG', hint?: string) =>
      new BrigError(code, `${where(field)}: ${message}`, { field, path: file, ...(hint ? { hint } : {}) });
    const data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (data === null || data === undefined) return; // an empty document: `---` at the end
    if (typeof data !== 'object' || Array.isArray(data)) throw error('', 'a manifest must be a mapping');
    const d = data as Dict;
    for (const k of ['apiVersion', 'kind']) if (typeof d[k] !== 'string') throw error(k, `${k} is required`);
    const kind = d.kind as string;
    const versions = Object.hasOwn(KINDS, kind) ? KINDS[kind]! : undefined;
    if (!versions) throw error('kind', `kind ${kind} is not supported by brig kube play`, 'UNSUPPORTED_FIELD', `supported: ${Object.keys(KINDS).join(', ')}`);
    if (!versions.includes(d.apiVersion as string)) throw error('apiVersion', `${kind} needs apiVersion ${versions.join(' or ')}, not ${String(d.apiVersion)}`);
    const meta = d.metadata as Dict | undefined;
    if (!meta || typeof meta !== 'object' || typeof meta.name !== 'string' || meta.name === '') throw error('metadata.name', 'metadata.name is required');
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) throw error('metadata.name', `invalid name "${meta.name}": lower case letters, digits, '-' and '.' (a DNS subdomain)`);
    out.push({ kind, name: meta.name, data: d, index, error, where });
  });
  return { path: file, documents: out };
}
