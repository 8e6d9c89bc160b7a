/**
 * brig's log files against what Debian's dockerd 20.10 writes for the same container (the
 * reference engine on its own socket; skipped without it): the same records with the same
 * attrs, the same gzip header, the same rotation points, the same `logs --details -t`
 * output; and brig reads dockerd's own files as `docker logs` prints them.
 *
 * Where they differ on purpose (moby's later fixes, which brig follows):
 *  - max-file=1: 20.10 renames the full file to name.1 and keeps it; moby since unlinks it.
 *  - local: the piece that ends a long line gets its newline back (20.10's reader drops it);
 *    labels/env/tag are taken and stored as attrs (20.10's local refuses them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { jsonFile } from '../../src/engine/logs/json-file.js';
import { renderLogLine } from '../../src/engine/logs/line.js';
import { local } from '../../src/engine/logs/local.js';
import { readLogs } from '../../src/engine/logs/reader.js';
import { brigCli } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox', 'dockerd-ref');
const root = mkdtempSync(path.join(tmpdir(), 'brig-vs-docker-'));
const { brig, ok } = brigCli(path.join(root, 'data'));
const DOCKER_HOST = 'unix:///run/docker-ref.sock';
const IMAGE = `brig-logs-test-${process.pid}:1`;
const made: string[] = [];

function docker(args: string[]): string {
  const r = spawnSync('docker', args, { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(() => {
  if (skip) return;
  const rootfs = path.join(root, 'rootfs');
  spawnSync('mkdir', ['-p', `${rootfs}/bin`]);
  spawnSync('cp', ['/bin/busybox', `${rootfs}/bin/`]);
  for (const a of ['sh', 'head', 'tr', 'printf', 'echo']) spawnSync('ln', ['-s', 'busybox', `${rootfs}/bin/${a}`]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'bb.tar'), '.']);
  docker(['import', path.join(root, 'bb.tar'), IMAGE]);
  ok(['import', path.join(root, 'bb.tar'), IMAGE]);
});

after(() => {
  if (!skip) {
    for (const id of made) spawnSync('docker', ['rm', '-f', id], { env: { ...process.env, DOCKER_HOST } });
    spawnSync('docker', ['rmi', IMAGE], { env: { ...process.env, DOCKER_HOST } });
    for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  }
  rmSync(root, { recursive: true, force: true });
});

/** Both engines run the same container; the ids and each engine's log directory. */
function runBoth(args: string[], script: string): { d: string; b: string; dDir: string; bDir: string } {
  const d = docker(['run', '-d', '--network', 'none', ...args, IMAGE, 'sh', '-c', script]).trim();
  made.push(d);
  const b = ok(['run', '-d', ...args, IMAGE, 'sh', '-c', script]).trim();
  docker(['wait', d]);
  ok(['wait', b]);
  return { d, b, dDir: `/var/lib/docker-ref/containers/${d}`, bDir: path.join(root, 'data', 'containers', b) };
}

const SCRIPT = 'i=0; while [ $i -lt 100 ]; do echo "line $i ........................"; i=$((i+1)); done; head -c 17000 /dev/zero | tr "\\0" a; echo; printf "no newline"';

/** A file's records with times and container ids made comparable. */
function normal(text: string, ids: string[]): string[] {
  let t = text.replace(/"time":"[^"]+"/g, '"time":"T"');
  for (const id of ids) t = t.replaceAll(id.slice(0, 12), 'ID');
  return t.trim().split('\n');
}

function unpack(file: string): Buffer {
  return file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
}

test('json-file with attrs and compression: the same records, gzip headers and rotation points as dockerd', { skip }, async () => {
  const opts = ['--label', 'a=1', '--label', 'b=x y', '-e', 'FOO=bar', '-e', 'Z=<&>', '--log-opt', 'labels=a,b', '--log-opt', 'env=FOO,Z', '--log-opt', 'tag={{.ID}}'];
  const { d, b, dDir, bDir } = runBoth([...opts, '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', '--log-opt', 'compress=true'], SCRIPT);
  const dFiles = readdirSync(dDir).filter((f) => f.includes('-json.log')).map((f) => f.replace(`${d}-json.log`, 'LOG')).sort();
  const bFiles = readdirSync(bDir).filter((f) => f.startsWith('json.log')).map((f) => f.replace('json.log', 'LOG')).sort();
  assert.deepEqual(bFiles, dFiles);
  const records = (dir: string, name: string, files: string[], id: string) => files.map((f) => normal(unpack(path.join(dir, f.replace('LOG', name))).toString(), [id]));
  const dRec = records(dDir, `${d}-json.log`, dFiles, d);
  const bRec = records(bDir, 'json.log', bFiles, b);
  assert.deepEqual(bRec.flat().sort(), dRec.flat().sort(), 'the same records, attrs and escaping');
  // Rotation at 2000 bytes (decimal k): the files hold the same records, give or take one
  // where a time's trailing zeros moved the size across the line.
  bRec.forEach((r, i) => assert.ok(Math.abs(r.length - dRec[i]!.length) <= 1, `${bFiles[i]}: ${r.length} records, dockerd ${dRec[i]!.length}`));
  for (const f of dFiles.filter((x) => x.endsWith('.gz'))) {
    const dh = readFileSync(path.join(dDir, f.replace('LOG', `${d}-json.log`)));
    const bh = readFileSync(path.join(bDir, f.replace('LOG', 'json.log')));
    assert.deepEqual([...bh.subarray(0, 12)], [...dh.subarray(0, 12)], `${f}: the same gzip header`);
    assert.match(bh.subarray(12, 12 + bh.readUInt16LE(10)).toString(), /^\{"lastTime":"\d{4}-[^"]+Z"\}$/);
  }
  const dOut = spawnSync('docker', ['logs', '--details', '-t', d], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' }).stdout;
  const bOut = ok(['logs', '--details', '-t', b]);
  // Each record gets its time, a piece of a long line too (mid-line).
  const shape = (s: string, id: string) => s.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /g, 'T ').replaceAll(id.slice(0, 12), 'ID');
  assert.equal(shape(bOut, b), shape(dOut, d), 'logs --details -t');
  // brig reads dockerd's files as docker logs prints them.
  const fromDocker = [];
  for await (const l of readLogs({ format: jsonFile, path: path.join(dDir, `${d}-json.log`), maxFiles: 3 })) fromDocker.push(renderLogLine(l, { details: true, timestamps: true }));
  assert.equal(fromDocker.join(''), dOut);
});

test("local: the same protobuf records as dockerd's local driver, and brig reads dockerd's files", { skip }, async () => {
  const { d, b, dDir, bDir } = runBoth(['--log-driver', 'local', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3'], SCRIPT);
  const files = (dir: string) => readdirSync(path.join(dir, 'local-logs')).sort();
  assert.deepEqual(files(bDir), files(dDir));
  // Field by field, times and partial ids aside.
  const shape = (dir: string) =>
    files(dir).flatMap((f) =>
      local.split(unpack(path.join(dir, 'local-logs', f))).records.map((r) =>
        r
          .toString('hex')
          .replace(/^(0a067374646f7574)10[0-9a-f]{18}/, '$1T')
          .replace(/1240(?:3[0-9]|6[1-6]){64}/, 'ID'),
      ),
    );
  assert.deepEqual(shape(bDir).sort(), shape(dDir).sort());
  const dOut = spawnSync('docker', ['logs', d], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' }).stdout;
  assert.equal(ok(['logs', b]), dOut.replace(/(a+)(no newline)$/, '$1\n$2'), '20.10 drops the newline that ends a long line; moby since, and brig, keep it');
  const fromDocker = [];
  for await (const l of readLogs({ format: local, path: path.join(dDir, 'local-logs', 'container.log'), maxFiles: 3 })) fromDocker.push(l.log);
  assert.equal(fromDocker.join(''), ok(['logs', b]));
});

test('max-file=1: dockerd 20.10 keeps the full file as name.1; brig unlinks it, as moby does since', { skip }, () => {
  const { d, dDir, bDir } = runBoth(['--log-opt', 'max-size=1k'], SCRIPT);
  assert.deepEqual(readdirSync(dDir).filter((f) => f.includes('-json.log')).sort(), [`${d}-json.log`, `${d}-json.log.1`]);
  assert.deepEqual(readdirSync(bDir).filter((f) => f.startsWith('json.log')), ['json.log']);
});
