/**
 * brig version and --version through the real bin/brig: docker's layout with Node in place
 * of Go, and the git commit the bundle was built from (scripts/bundle.mjs writes it in).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { brigCli } from '../support/brig-cli.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper');
const root = mkdtempSync(path.join(tmpdir(), 'brig-version-'));
const { brig, ok } = brigCli(path.join(root, 'data'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('version', { skip }, () => {
  const head = spawnSync('git', ['-C', repoRoot, 'rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' });
  const commit = head.status === 0 ? head.stdout.trim() : 'unknown';

  test('--version and -v: "brig version X, build COMMIT", the commit the build was made from', () => {
    const pkg = JSON.parse(readTextSync(path.join(repoRoot, 'package.json'))) as { version: string };
    for (const flag of ['--version', '-v']) {
      const out = ok([flag]);
      assert.match(out, new RegExp(`^brig version ${pkg.version.replace(/\./g, '\\.')}, build ${commit}(-dirty)?\\n$`));
    }
  });

  test("an unknown command: docker's CLI words and exit 1, at the top and in a group", () => {
    const top = brig(['frobnicate']);
    assert.deepEqual([top.code, top.stdout, top.stderr], [1, '', "brig: unknown command: brig frobnicate\n\nRun 'brig --help' for more information\n"]);
    const sub = brig(['container', 'frobnicate']);
    assert.deepEqual([sub.code, sub.stderr], [1, "brig: unknown command: brig container frobnicate\n\nUsage:  brig container\n\nRun 'brig container --help' for more information\n"]);
  });

  test("version: docker's Client/Server layout, Node in place of Go; --format; a bad template exits 64", () => {
    const out = ok(['version']);
    const lines = out.split('\n');
    assert.equal(lines[0], 'Client: brig');
    assert.match(out, /^ Version: {11}\d+\.\d+\.\d+$/m);
    assert.match(out, /^ API version: {7}1\.45$/m);
    assert.match(out, new RegExp(`^ Node version: {6}${process.version}$`, 'm'));
    assert.match(out, new RegExp(`^ Git commit: {8}${commit}`, 'm'));
    assert.match(out, /^ Built: {13}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/m);
    assert.match(out, /^ OS\/Arch: {11}linux\/\w+$/m);
    assert.match(out, /^Server: brig\n Engine:\n {2}Version: {10}\d/m);
    assert.match(out, /^ {2}API version: {6}1\.45 \(minimum version 1\.24\)$/m);
    assert.match(out, /^ {2}Experimental: {5}false$/m);
    assert.equal(ok(['version', '--format', '{{.Client.Version}} {{.Server.APIVersion}}']), `${JSON.parse(readTextSync(path.join(repoRoot, 'package.json'))).version} 1.45\n`);
    const json = JSON.parse(ok(['version', '-f', 'json'])) as { Client: { GitCommit: string }; Server: { Components: { Name: string }[] } };
    assert.match(json.Client.GitCommit, new RegExp(`^${commit}`));
    assert.equal(json.Server.Components[0]!.Name, 'Engine');
    const bad = brig(['version', '-f', '{{.Client']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /^template parsing error: /);
    assert.equal(brig(['version', 'extra']).code, 125);
  });
});
