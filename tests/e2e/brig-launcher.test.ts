/**
 * bin/brig's launcher (native/launch/launch.c built with -DBRIG_CLI): for a foreground
 * `run --rm` it forks stage 0 ahead of Node, with /dev/null for stdin unless the run reads
 * its stdin (-i, -t), and brig-spawner, which runs brig's tools for Node. Shown here: the CLI uses that stage 0 (its phase mark says so) and the
 * exit status comes through it; with -i the container reads the caller's stdin; nothing of
 * the hand-over reaches the container (no variable, no descriptor); a stage 0 the command
 * does not use is gone with it; a wrong BRIG_HOME is an error naming it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { busyboxTar } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-launch-'));
const data = path.join(root, 'data');
const { ok } = brigCli(data);
const IMAGE = 'localhost/launch:1';
const env = { ...process.env, BRIG_ROOT: data };

before(async () => {
  if (skip) return;
  ok(['import', '--change', 'ENV PATH=/bin', await busyboxTar(root, ['true', 'cat', 'ls', 'env', 'sh']), IMAGE]);
});

after(() => rmSync(root, { recursive: true, force: true }));

/** The pids of processes named `comm`. */
function processes(comm: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readTextSync(`/proc/${p}/comm`).trim() === comm;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const helpers = () => processes('brig-helper');

test('run --rm uses the stage 0 the launcher forked, with /dev/null for stdin, and returns the exit status through it', { skip }, () => {
  const r = spawnSync(BRIG, ['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'ls -l /proc/self/fd/0; exit 7'], { env: { ...env, BRIG_TIMING: '1' }, encoding: 'utf8' });
  assert.equal(r.status, 7, r.stderr);
  assert.match(r.stderr, /stage 0 \d+ \(forked by the launcher\)/);
  assert.match(r.stderr, /tools through the spawner forked by the launcher/);
  assert.match(r.stdout, /\/proc\/self\/fd\/0 -> \/dev\/null/);
  // Other commands get neither.
  const ps = spawnSync(BRIG, ['ps'], { env: { ...env, BRIG_TIMING: '1' }, encoding: 'utf8' });
  assert.equal(ps.status, 0, ps.stderr);
  assert.doesNotMatch(ps.stderr, /spawner|stage 0/);
});

test('run --rm on the default bridge: brig-net and brig-mount run through the spawner; nothing of it stays', { skip }, () => {
  const before = new Set(processes('brig-spawner'));
  const r = spawnSync(BRIG, ['run', '--rm', IMAGE, 'sh', '-c', 'ls /sys/class/net'], { env: { ...env, BRIG_TIMING: '1' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /eth0/);
  assert.match(r.stderr, /tools through the spawner forked by the launcher/);
  // Killed as brig exits (and by its parent-death signal): gone within moments.
  const left = () => processes('brig-spawner').filter((p) => !before.has(p));
  for (let i = 0; i < 40 && left().length > 0; i++) spawnSync('sleep', ['0.05']);
  assert.deepEqual(left(), []);
});

test('run --rm -i reads the caller\'s stdin through the launcher\'s stage 0', { skip }, () => {
  const r = spawnSync(BRIG, ['run', '--rm', '-i', '--network', 'none', IMAGE, 'cat'], { env: { ...env, BRIG_TIMING: '1' }, input: 'from the caller\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'from the caller\n');
  assert.match(r.stderr, /stage 0 \d+ \(forked by the launcher\)/);
});

test('nothing of the hand-over reaches the container: no _BRIG_STAGE0, no descriptor but stdio', { skip }, () => {
  const out = ok(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'env; ls /proc/self/fd']);
  assert.doesNotMatch(out, /_BRIG_STAGE0/);
  // ls's own directory descriptor is the only one past stdio.
  const fds = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  assert.ok(fds.filter((n) => n > 2).length <= 1, `fds: ${fds.join(' ')}`);
});

test('a stage 0 the command does not use (a run --rm that fails before it starts anything) is gone with it', { skip }, () => {
  const before = new Set(helpers());
  const r = spawnSync(BRIG, ['run', '--rm', 'localhost/no-such-image:1', 'true'], { env: { ...env, BRIG_REGISTRY_TIMEOUT_MS: '1000' }, encoding: 'utf8' });
  assert.equal(r.status, 125, r.stderr);
  assert.deepEqual(helpers().filter((p) => !before.has(p)), []);
});

test('BRIG_HOME that is not an installation is an error naming it (exit 127)', { skip }, () => {
  const r = spawnSync(BRIG, ['ps'], { env: { ...env, BRIG_HOME: path.join(root, 'nowhere') }, encoding: 'utf8' });
  assert.equal(r.status, 127);
  assert.match(r.stderr, /^brig: cannot find brig's installation/);
  assert.match(r.stderr, /BRIG_HOME=.*nowhere: .*nowhere\/dist\/brig\.cjs: No such file or directory/);
});
