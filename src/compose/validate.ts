/**
 * A compose file checked against the Compose Specification's published JSON schema
 * (src/compose/schema/compose-spec.json, compiled by ajv at build time into
 * dist/compose-schema.cjs), before files are merged, as compose does. The first error says
 * the file, the line and the path as compose users read it: `services.web.ports[0]`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BrigError } from '../errors/index.js';
import { Override, Reset, type ComposeFile } from './yaml-file.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

let validator: Validator | undefined;

/** The build's compiled schema: beside the bundle (dist/), or two levels up from dist/src/compose. */
function load(): Validator {
  if (validator) return validator;
  for (const rel of ['./compose-schema.cjs', '../../compose-schema.cjs']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) {
      const m = createRequire(import.meta.url)(file) as Validator | { default: Validator };
      validator = typeof m === 'function' ? m : m.default;
      return validator;
    }
  }
  throw new BrigError('INTERNAL', 'the compose schema validator was not built (dist/compose-schema.cjs)', { hint: 'npm run build' });
}

/** The data as the schema sees it: a `!reset` value left out, an `!override` one as itself. */
function plain(node: unknown): unknown {
  if (node instanceof Override) return plain(node.value);
  if (Array.isArray(node)) return node.filter((x) => !(x instanceof Reset)).map(plain);
  if (node !== null && typeof node === 'object' && !(node instanceof Reset)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (!(v instanceof Reset)) out[k] = plain(v);
    return out;
  }
  return node;
}

/** `/services/web/ports/0` → ['services','web','ports',0]. */
function pointer(p: string): (string | number)[] {
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function pathText(parts: (string | number)[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

/** The error compose users can act on: the deepest one, an unknown key before a type mismatch. */
function pick(errors: AjvError[]): AjvError {
  const depth = (e: AjvError) => pointer(e.instancePath).length + (e.keyword === 'additionalProperties' ? 1 : 0);
  const rank = (e: AjvError) => (e.keyword === 'oneOf' || e.keyword === 'anyOf' ? 0 : e.keyword === 'additionalProperties' ? 3 : e.keyword === 'required' ? 2 : 1);
  return [...errors].sort((a, b) => depth(b) - depth(a) || rank(b) - rank(a))[0]!;
}

function describe(e: AjvError): { where: (string | number)[]; text: string } {
  const where = pointer(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties':
      return { where: [...where, String(e.params.additionalProperty)], text: `additional property ${String(e.params.additionalProperty)} is not allowed` };
    case 'required':
      return { where, text: `${String(e.params.missingProperty)} is required` };
    case 'type':
      return { where, text: `must be a ${String(e.params.type).replace(/,/g, ' or ')}` };
    case 'enum':
      return { where, text: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { where, text: `does not match ${String(e.params.pattern)}` };
    case 'uniqueItems':
      return { where, text: 'has duplicate items' };
    default:
      return { where, text: e.message ?? e.keyword };
  }
}

export function validateComposeFile(f: ComposeFile): void {
  const v = load();
  if (v(plain(f.data))) return;
  const { where, text } = describe(pick(v.errors ?? []));
  const line = f.lineOf(where);
  const at = pathText(where) || '(top level)';
  throw new BrigError('INVALID_CONFIG', `${f.path}${line ? `:${line}` : ''}: ${at} ${text}`, { path: f.path, field: at });
}
