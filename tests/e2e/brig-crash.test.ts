/**
 * Crash consistency through the real binary: brig killed with SIGKILL at points spread over
 * the whole of `run -d` and of `rm -f`, then the next commands must read the state correctly
 * (`ps -a` works and never calls a container running whose process is gone) and `rm -f`
 * must leave nothing on the host: no mount, cgroup, monitor, runtime state, container
 * directory or claimed name. A monitor or container killed from outside is recorded as
 * exited with the right status.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const root = mkdtempSync(path.join(tmpdir(), 'brig-crash-'));
const data = path.join(root, 'data');
const { env, brig, ok, traces } = brigCli(data);
const IMAGE = 'localhost/crash:1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ls = (d: string) => (existsSync(d) ? readdirSync(d) : []);
const mountsUnder = (d: string) =>
  readTextSync('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(d));

/** Runs brig and SIGKILLs it after `ms` (if it has not finished by then). */
async function killAfter(args: string[], ms: number): Promise<void> {
  const child = spawn(BRIG, args, { env, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  await Promise.race([sleep(ms), exited]);
  child.kill('SIGKILL');
  await exited;
}

/** Every container `ps -a` lists must be consistent: "running" only with a live init. */
function checkPs(): string[] {
  const r = brig(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.State}}']);
  assert.equal(r.code, 0, `ps -a after a kill: ${r.stderr}`);
  const rows = r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
  for (const [id, state] of rows) {
    if (state !== 'running') continue;
    const pid = Number(ok(['inspect', '-f', '{{.State.Pid}}', id]).trim());
    assert.ok(pid > 0 && existsSync(`/proc/${pid}`), `${id} is listed running, so its init ${pid} lives`);
  }
  return rows.map(([id]) => id);
}

/** rm -f of everything, then nothing of any container ever made may remain on the host. */
function cleanAll(seen: Set<string>): void {
  for (const id of checkPs()) {
    const r = brig(['rm', '-f', id]);
    assert.equal(r.code, 0, `rm -f ${id}: ${r.stderr}`);
  }
  assert.equal(brig(['ps', '-aq']).stdout, '');
  // The next command sweeps what a killed create left before it had a record.
  assert.equal(brig(['ps', '-a']).code, 0);
  for (const id of seen) assert.deepEqual(traces(id), [], `traces of ${id}`);
  assert.deepEqual(ls(path.join(data, 'containers')), []);
  assert.deepEqual(mountsUnder(data), []);
  assert.deepEqual(ls(path.join(data, 'run')), [], 'no runtime state');
}

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'true']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'img.tar'), '.']);
  ok(['import', path.join(root, 'img.tar'), IMAGE]);
});

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

/** How long a whole `run -d` takes here, so the kills fall across all of it. */
function timeRunD(): number {
  const t = Date.now();
  const id = ok(['run', '-d', IMAGE, 'sleep', '1000']).trim();
  const took = Date.now() - t;
  ok(['rm', '-f', id]);
  return took;
}

test('SIGKILL of `brig run -d` at any point: ps -a reads the state right, rm -f leaves nothing, the name is free again', { skip }, async () => {
  const span = timeRunD();
  const seen = new Set<string>();
  for (let i = 0; i <= 12; i++) {
    const at = Math.round((span * i) / 10);
    const name = `crash-${i}`;
    await killAfter(['run', '-d', '--name', name, IMAGE, 'sleep', '1000'], at);
    for (const id of ls(path.join(data, 'containers'))) seen.add(id);
    checkPs();
    cleanAll(seen);
    // Whatever the kill interrupted, the name is not held by a ghost.
    const again = ok(['run', '-d', '--name', name, IMAGE, 'sleep', '1000']).trim();
    seen.add(again);
    ok(['rm', '-f', name]);
  }
  cleanAll(seen);
});

test('SIGKILL of a foreground `run --rm --ipc shareable`: once its container has ended, the next command unmounts its /dev/shm and removes the rest', { skip }, async () => {
  const seen = new Set<string>();
  await killAfter(['run', '--rm', '--network', 'none', '--ipc', 'shareable', IMAGE, 'sleep', '2'], 1500);
  for (const id of ls(path.join(data, 'containers'))) seen.add(id);
  assert.equal(seen.size, 1, 'its directory is left by the kill');
  await sleep(2500);
  cleanAll(seen);
});

test('SIGKILL of `brig rm -f` at any point: the container is gone or still listed, and rm -f finishes the job', { skip }, async () => {
  const seen = new Set<string>();
  for (let i = 0; i <= 10; i++) {
    const id = ok(['run', '-d', IMAGE, 'sleep', '1000']).trim();
    seen.add(id);
    await killAfter(['rm', '-f', id], i * 15);
    checkPs();
    cleanAll(seen);
  }
});

test('a container or monitor killed from outside is recorded as exited with its status; never "running" with its process gone', { skip }, async () => {
  const id = ok(['run', '-d', IMAGE, 'sleep', '1000']).trim();
  const pid = Number(ok(['inspect', '-f', '{{.State.Pid}}', id]).trim());
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && ok(['inspect', '-f', '{{.State.Status}}', id]).trim() !== 'exited'; i++) await sleep(50);
  assert.equal(ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]), 'exited 137\n');
  // The monitor killed: the container's init lives on (as docker's does without its shim),
  // but once both are gone the record says exited.
  const id2 = ok(['run', '-d', IMAGE, 'sleep', '1000']).trim();
  const pid2 = Number(ok(['inspect', '-f', '{{.State.Pid}}', id2]).trim());
  const monitor = Number(readTextSync(`/proc/${pid2}/stat`).split(') ')[1]!.split(' ')[1]);
  process.kill(monitor, 'SIGKILL');
  process.kill(pid2, 'SIGKILL');
  for (let i = 0; i < 100 && existsSync(`/proc/${pid2}`); i++) await sleep(20);
  const st = ok(['inspect', '-f', '{{.State.Status}} {{.State.Running}}', id2]).trim();
  assert.match(st, /^exited false$/);
  cleanAll(new Set([id, id2]));
});
