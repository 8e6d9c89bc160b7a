#!/usr/bin/env node
/**
 * The bundle step of `npm run build`: dist/brig-runtime.cjs and dist/brig.cjs with esbuild,
 * and what the build is written into them as __BRIG_BUILD__ (src/util/build-info.ts):
 *
 *   commit   BRIG_GIT_COMMIT if set, else `git rev-parse --short HEAD` (7 characters, as
 *            docker's), "-dirty" after it when tracked files have changes; "unknown" where
 *            there is no git (a source tarball)
 *   built    SOURCE_DATE_EPOCH if set (reproducible builds), else now; RFC 3339, UTC
 *
 * An npm package carries the bundles as they were built by `npm pack` (its install script
 * builds only native code), so an installed brig reports the commit it was packed from.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function git(...args) {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function commit() {
  if (process.env.BRIG_GIT_COMMIT) return process.env.BRIG_GIT_COMMIT;
  try {
    const head = git('rev-parse', '--short=7', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return 'unknown';
  }
}

const epoch = process.env.SOURCE_DATE_EPOCH;
const info = {
  commit: commit(),
  built: (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString(),
};

/*
 * Builtins a command may never touch, loaded on first use instead of at start. esbuild turns
 * `import { x } from 'node:http'` into a `require("node:http")` at the top of the bundle, so
 * every `brig ps` paid for http, https, tls, net, dgram, zlib, crypto and child_process before
 * doing anything (~30 ms of CPU here, a fifth of a whole `brig run --rm`). Each such require
 * becomes a proxy that loads the module at its first property access; what is used at start
 * anyway (fs, path, os, url, util) stays eager. A default or namespace import becomes
 * `__toESM(require(...), 1)`, which enumerates the module and so would load it at once (http and
 * https through the registry and remote clients' `import * as http`: ~50 ms of CPU at every
 * start here); it becomes the same proxy with `default` answering the module itself, which is
 * what __toESM gives a builtin in node mode.
 */
const LAZY_BUILTINS = ['async_hooks', 'child_process', 'crypto', 'dgram', 'http', 'https', 'net', 'readline', 'stream', 'timers/promises', 'tls', 'zlib'];
const LAZY_PRELUDE = `const __brigLazy = (id, esm) => {
  let m;
  const get = () => (m ??= process.getBuiltinModule(id));
  return new Proxy({}, {
    get: (_, k) => (esm && k === 'default' ? get() : get()[k]),
    has: (_, k) => (esm && k === 'default') || k in get(),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(get(), k); return d && { ...d, configurable: true }; },
    getPrototypeOf: () => Reflect.getPrototypeOf(get()),
  });
};`;

function lazyBuiltins(code) {
  const ids = LAZY_BUILTINS.join('|');
  return code
    .replace(new RegExp(`__toESM\\(require\\("node:(${ids})"\\), 1\\)`, 'g'), (_, id) => `__brigLazy("node:${id}", true)`)
    .replace(new RegExp(`require\\("node:(${ids})"\\)`, 'g'), (_, id) => `__brigLazy("node:${id}")`);
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  logLevel: 'warning',
  define: { 'import.meta.url': '__brigModuleUrl', __BRIG_BUILD__: JSON.stringify(info) },
  banner: { js: `const __brigModuleUrl = require('node:url').pathToFileURL(__filename).href;\n${LAZY_PRELUDE}` },
  write: false,
};
/*
 * Verbs whose code (and libraries) only they use live in bundles of their own, loaded by
 * their verb with import(): `brig compose` and `brig kube` bring the YAML parser, which no other command
 * should parse at start. The verb's `import('./run.js')` becomes an import of the bundle
 * beside dist/brig.cjs.
 */
const APART = [
  { entry: 'src/cli/brig/commands/compose/run.ts', out: 'dist/brig-compose.cjs', importer: /commands[\\/]compose[\\/]index\.ts$/ },
  { entry: 'src/cli/brig/commands/kube/run.ts', out: 'dist/brig-kube.cjs', importer: /commands[\\/]kube[\\/]index\.ts$/ },
];
const apartPlugin = {
  name: 'apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/run\.js$/ }, (args) => {
      const a = APART.find((x) => x.importer.test(args.importer));
      return a ? { path: `./${path.basename(a.out)}`, external: true } : undefined;
    });
  },
};

async function bundle(entry, out) {
  const r = await build({ ...common, entryPoints: [path.join(root, entry)], outfile: path.join(root, out), plugins: [apartPlugin] });
  for (const f of r.outputFiles) writeFileSync(f.path, lazyBuiltins(f.text));
}
/*
 * The Compose Specification's JSON schema (src/compose/schema/compose-spec.json) as ajv's
 * standalone validator, compiled here once: compiling it at run time costs ~300 ms (more on
 * a busy machine) on every `brig compose`. ajv is a build-time dependency only.
 */
async function composeValidator(out) {
  const { default: Ajv } = await import('ajv');
  const { default: standalone } = await import('ajv/dist/standalone/index.js');
  const { readFileSync, mkdirSync } = await import('node:fs');
  const schema = JSON.parse(readFileSync(path.join(root, 'src/compose/schema/compose-spec.json'), 'utf8'));
  // The spec marks obsolete keys `deprecated` (a later draft's keyword): known, not checked.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, code: { source: true } });
  const code = standalone(ajv, ajv.compile(schema));
  mkdirSync(path.join(root, 'dist'), { recursive: true });
  const r = await build({ ...common, banner: undefined, define: undefined, stdin: { contents: code, resolveDir: root, loader: 'js' }, outfile: path.join(root, out), minify: true });
  for (const f of r.outputFiles) writeFileSync(f.path, f.text);
}

await Promise.all([
  bundle('src/cli/runtime/main.ts', 'dist/brig-runtime.cjs'),
  bundle('src/cli/brig/main.ts', 'dist/brig.cjs'),
  ...APART.map((a) => bundle(a.entry, a.out)),
  composeValidator('dist/compose-schema.cjs'),
]);
