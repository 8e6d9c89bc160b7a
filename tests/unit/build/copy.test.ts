/** COPY's source rules on a plain directory (no root): wildcards, .dockerignore, the context's edge, naming, digests. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { digestCopy, matchSource, planCopy, type SourceRoot } from '../../../src/build/copy.js';
import { IgnoreMatcher } from '../../../src/build/ignore.js';

const dir = mkdtempSync(path.join(tmpdir(), 'brig-copy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const [f, t] of Object.entries({ 'package.json': '{}', 'package-lock.json': '{}', 'src/a.js': 'a', 'src/lib/b.js': 'b', 'x.log': 'log', 'node_modules/m/i.js': 'm' })) {
  mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
  writeFileSync(path.join(dir, f), t);
}
symlinkSync('/etc', path.join(dir, 'escape'));
const ctx: SourceRoot = { root: dir, ignore: IgnoreMatcher.parse('node_modules\n*.log\n'), what: 'build context' };

test('sources: wildcards per component, ignored files left out, a plain missing or ignored path is an error', async () => {
  assert.deepEqual(await matchSource(ctx, 'package*.json', { outsideIsError: true }), ['/package-lock.json', '/package.json']);
  assert.deepEqual(await matchSource(ctx, 'src/*.js', { outsideIsError: true }), ['/src/a.js']);
  assert.deepEqual(await matchSource(ctx, '*.log', { outsideIsError: true }), []);
  await assert.rejects(matchSource(ctx, 'x.log', { outsideIsError: true }), /"\/x.log" not found in the build context \(or excluded by .dockerignore\)/);
  await assert.rejects(matchSource(ctx, 'nope', { outsideIsError: true }), /"\/nope" not found/);
  await assert.rejects(matchSource(ctx, '../etc/passwd', { outsideIsError: true }), /forbidden path outside the build context/);
  // A symlink is followed inside the context: /etc here is the context's, which has none.
  await assert.rejects(matchSource(ctx, 'escape/passwd', { outsideIsError: true }), /not found/);
});

test('naming: a directory copies its contents, a file lands at DEST or inside it', async () => {
  const names = async (srcs: string[], dest: string, isDir: boolean, raw: string) => {
    const p = await planCopy(ctx, srcs, dest, isDir, raw);
    return [p.destDir, p.entries.map((e) => e.name)];
  };
  assert.deepEqual(await names(['/src'], '/app', false, '/app'), ['/app', ['a.js', 'lib', 'lib/b.js']]);
  assert.deepEqual(await names(['/package.json'], '/app/pkg.json', false, '/app/pkg.json'), ['/app', ['pkg.json']]);
  assert.deepEqual(await names(['/package.json'], '/app', true, '/app/'), ['/app', ['package.json']]);
  // The whole context, ignored directories left out.
  const all = await planCopy(ctx, ['/'], '/app', true, '.');
  assert.ok(!all.entries.some((e) => e.name.startsWith('node_modules') || e.name.endsWith('.log')), JSON.stringify(all.entries.map((e) => e.name)));
});

test('the digest follows names, modes and contents, not times', async () => {
  const digest = async () => digestCopy((await planCopy(ctx, ['/src'], '/app', true, '/app/')).entries, '');
  const d1 = await digest();
  utimesSync(path.join(dir, 'src/a.js'), new Date(0), new Date(0));
  assert.equal(await digest(), d1);
  writeFileSync(path.join(dir, 'src/a.js'), 'A');
  const d2 = await digest();
  assert.notEqual(d2, d1);
  writeFileSync(path.join(dir, 'src/c.js'), '');
  assert.notEqual(await digest(), d2);
});
