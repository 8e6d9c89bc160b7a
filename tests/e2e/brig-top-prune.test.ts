/**
 * brig top and brig container prune through the real bin/brig, as docker answers them:
 * top runs the host's ps over the pids in the container's cgroup (default -ef, custom
 * options, exec'd processes, paused, stopped, docker's errors and table); prune asks first
 * (on a terminal and with stdin not one: only y goes on), -f does not, --filter until, label
 * and label! choose, running containers stay, and two prunes at once both succeed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readTextSync } from '../../src/util/read-text.js';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { repoRoot, requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox');
const ptySkip = requires('root', 'helper', 'busybox', 'python3');
const root = mkdtempSync(path.join(tmpdir(), 'brig-top-'));
const { env, brig, ok, traces } = brigCli(path.join(root, 'data'));
const PROMPT = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ';

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'true', 'printf']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(root, 'bb.tar'), '.']);
  ok(['import', path.join(root, 'bb.tar'), 'localhost/bb:1']);
});

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

/** The pids the kernel has in the container's cgroup (v1 pids hierarchy, or v2). */
function cgroupPids(id: string): number[] {
  const file = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup'].map((m) => `${m}/brig/${id}/cgroup.procs`).find((f) => existsSync(f))!;
  return readTextSync(file).split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
}

/** A docker top table: its titles and rows, split at the runs of spaces tabwriter made. */
function table(out: string): { titles: string[]; rows: string[][] } {
  const [head = '', ...rows] = out.trimEnd().split('\n');
  return { titles: head.split(/ {2,}/), rows: rows.map((r) => r.split(/ {2,}/)) };
}

test('top: ps -ef over the container cgroup\'s pids; custom options; exec\'d processes; paused', { skip }, async () => {
  const id = ok(['run', '-d', '--name', 'tp', 'localhost/bb:1', 'sh', '-c', 'sleep 300 & sleep 301; echo done']).trim();
  await new Promise((r) => setTimeout(r, 300));
  const out = ok(['top', 'tp']);
  // docker's table: tabwriter, columns at least 20 wide.
  assert.match(out, /^UID {17}PID {17}PPID {16}C {19}STIME {15}TTY {17}TIME {16}CMD\n/);
  const t = table(out);
  assert.deepEqual(t.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(t.rows.map((r) => Number(r[1])).sort((a, b) => a - b), cgroupPids(id), 'exactly the cgroup\'s processes');
  assert.deepEqual(t.rows.map((r) => r[7]).sort(), ['sh -c sleep 300 & sleep 301; echo done', 'sleep 300', 'sleep 301']);
  const init = Number(ok(['inspect', '-f', '{{.State.Pid}}', 'tp']));
  assert.ok(t.rows.some((r) => Number(r[1]) === init), 'init is among them');
  // ps's own options after the container; BSD ones too.
  assert.deepEqual(table(ok(['top', 'tp', '-o', 'pid,comm'])), { titles: ['PID', 'COMMAND'], rows: cgroupPids(id).map((p) => [String(p), p === init ? 'sh' : 'sleep']) });
  assert.equal(table(ok(['container', 'top', 'tp', 'aux'])).titles[10], 'COMMAND');
  // A process exec'd into it is in its cgroup, so in top.
  ok(['exec', '-d', 'tp', 'sleep', '302']);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(table(ok(['top', 'tp'])).rows.some((r) => r[7] === 'sleep 302'));
  // A paused container's processes are listed as docker lists them.
  ok(['pause', 'tp']);
  try {
    assert.equal(table(ok(['top', 'tp', '-o', 'pid,stat'])).rows.length, 4);
  } finally {
    ok(['unpause', 'tp']);
  }
  ok(['rm', '-f', 'tp']);
});

test("top: docker's errors for stopped and missing containers and for ps options", { skip }, () => {
  const created = ok(['create', '--name', 'tc', 'localhost/bb:1', 'true']).trim();
  const exited = ok(['run', '-d', '--name', 'tx', 'localhost/bb:1', 'true']).trim();
  ok(['wait', 'tx']);
  ok(['run', '-d', '--name', 'tr', 'localhost/bb:1', 'sleep', '300']);
  const cases: [string[], number, string][] = [
    [['tc'], 1, `Error response from daemon: container ${created} is not running\n`],
    [['tx'], 1, `Error response from daemon: container ${exited} is not running\n`],
    [['nope'], 1, 'Error response from daemon: No such container: nope\n'],
    [['tr', '-o', 'comm'], 1, "Error response from daemon: Couldn't find PID field in ps output\n"],
    [['tr', '-o', 'user=PID'], 1, 'Error response from daemon: specifying "user=PID" is not allowed\n'],
    [['tr', '--bogus'], 1, 'Error response from daemon: ps: error: unknown gnu long option\n'],
    [[], 125, `brig: "brig top" requires at least 1 argument.\nhint: See 'brig top --help'.\n`],
  ];
  for (const [args, code, stderr] of cases) {
    const r = brig(['top', ...args]);
    assert.deepEqual([r.code, r.stderr, r.stdout], [code, stderr, ''], args.join(' '));
  }
  ok(['rm', '-f', 'tc', 'tx', 'tr']);
});

test('container prune asks first: only y goes on (stdin a pipe here: an answer, another, or none); -f does not ask', { skip }, async () => {
  const a = ok(['run', '-d', '--label', 'pr=1', 'localhost/bb:1', 'sh', '-c', 'printf hello > /f']).trim();
  const b = ok(['create', '--label', 'pr=1', 'localhost/bb:1', 'true']).trim();
  const running = ok(['run', '-d', '--label', 'pr=1', 'localhost/bb:1', 'sleep', '300']).trim();
  ok(['wait', a]);
  const labelled = () => ok(['ps', '-aq', '--no-trunc', '-f', 'label=pr=1']).split('\n').filter(Boolean).sort();
  for (const input of ['n\n', 'N\n', 'yes\n', '', 'anything']) {
    const r = brig(['container', 'prune', '--filter', 'label=pr=1'], input);
    // docker: a "no" cancels with status 0 and nothing after the prompt.
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, PROMPT, ''], JSON.stringify(input));
  }
  assert.deepEqual(labelled(), [a, b, running].sort());
  const y = brig(['container', 'prune', '--filter', 'label=pr=1'], ' Y \nmore\n');
  assert.equal(y.code, 0, y.stderr);
  // Newest first or not, both stopped ones go; "hello" was 5 bytes in a's upper dir.
  const deleted = y.stdout.slice(PROMPT.length).split('\n');
  assert.equal(y.stdout.slice(0, PROMPT.length), PROMPT);
  assert.equal(deleted[0], 'Deleted Containers:');
  assert.deepEqual(deleted.slice(1, 3).sort(), [a, b].sort());
  assert.deepEqual(deleted.slice(3), ['', 'Total reclaimed space: 5B', '']);
  assert.deepEqual(labelled(), [running], 'a running container stays');
  assert.deepEqual(traces(a), []);
  // -f: no prompt; nothing left to delete: only the total.
  assert.deepEqual(brig(['container', 'prune', '-f', '--filter', 'label=pr=1']), { code: 0, stdout: 'Total reclaimed space: 0B\n', stderr: '' });
  ok(['rm', '-f', running]);
});

test('container prune on a terminal: the prompt waits for the answer typed', { skip: ptySkip }, () => {
  const gone = ok(['create', '--label', 'tty=1', 'localhost/bb:1', 'true']).trim();
  const steps = [{ expect: 'continue\\? \\[y/N\\] $' }, { send: 'y\r' }, { expect: 'Total reclaimed space' }];
  const r = spawnSync('python3', [path.join(repoRoot, 'tests/support/pty-driver.py'), JSON.stringify(steps), BRIG, 'container', 'prune', '--filter', 'label=tty=1'], { env, encoding: 'utf8', timeout: 60_000 });
  const res = JSON.parse(r.stdout) as { out: string; status: number };
  assert.equal(res.status, 0, res.out);
  assert.match(res.out.replace(/\r/g, ''), new RegExp(`\\[y/N\\] y\\nDeleted Containers:\\n${gone}\\n\\nTotal reclaimed space: 0B\\n$`));
  const kept = ok(['create', '--label', 'tty=1', 'localhost/bb:1', 'true']).trim();
  const no = spawnSync('python3', [path.join(repoRoot, 'tests/support/pty-driver.py'), JSON.stringify([{ expect: '\\[y/N\\] $' }, { send: '\r' }]), BRIG, 'container', 'prune', '--filter', 'label=tty=1'], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal((JSON.parse(no.stdout) as { status: number }).status, 0);
  assert.equal(ok(['ps', '-aq', '--no-trunc', '-f', 'label=tty=1']), `${kept}\n`, 'Enter alone is no');
  ok(['rm', kept]);
});

test('container prune --filter: until, label, label!; errors as the daemon words them', { skip }, async () => {
  const keep = ok(['create', '--label', 'f=1', '--label', 'keep=yes', 'localhost/bb:1', 'true']).trim();
  const go = ok(['create', '--label', 'f=1', 'localhost/bb:1', 'true']).trim();
  const prune = (...filters: string[]) => ok(['container', 'prune', '-f', ...filters.flatMap((f) => ['--filter', f])]);
  assert.equal(prune('label=f=1', 'until=1h'), 'Total reclaimed space: 0B\n', 'both were created within the hour');
  assert.equal(prune('label=f=1', 'until=2000-01-01T00:00:00Z'), 'Total reclaimed space: 0B\n');
  assert.equal(prune('label=f=1', 'label!=keep'), `Deleted Containers:\n${go}\n\nTotal reclaimed space: 0B\n`);
  assert.equal(prune('label=f=1', 'label!=keep=no', `until=${Math.ceil(Date.now() / 1000) + 60}`), `Deleted Containers:\n${keep}\n\nTotal reclaimed space: 0B\n`);
  const cases: [string[], number, string][] = [
    [['--filter', 'foo=1'], 1, "Error response from daemon: invalid filter 'foo'\n"],
    [['--filter', 'until=1h', '--filter', 'until=2h'], 1, 'Error response from daemon: more than one until filter specified\n'],
    [['--filter', 'until=abc'], 1, 'Error response from daemon: failed to parse value as time or duration: invalid seconds "abc": invalid syntax\n'],
    [['--filter', 'foo'], 125, `brig: invalid argument "foo" for "--filter" flag: bad format of filter (expected name=value)\nhint: See 'brig container prune --help'.\n`],
    [['x'], 125, `brig: "brig container prune" accepts no arguments.\nhint: See 'brig container prune --help'.\n`],
  ];
  for (const [args, code, stderr] of cases) {
    const r = brig(['container', 'prune', '-f', ...args]);
    assert.deepEqual([r.code, r.stderr, r.stdout], [code, stderr, ''], args.join(' '));
  }
});

test('two prunes at once: each container removed once, neither fails on what the other took', { skip }, async () => {
  const made = Array.from({ length: 8 }, () => ok(['create', '--label', 'race=1', 'localhost/bb:1', 'true']).trim());
  const run = () =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn(BRIG, ['container', 'prune', '-f', '--filter', 'label=race=1'], { env });
      let out = '';
      let err = '';
      c.stdout.on('data', (d: Buffer) => (out += d));
      c.stderr.on('data', (d: Buffer) => (err += d));
      c.on('close', (code) => resolve({ code, out, err }));
    });
  const [x, y] = await Promise.all([run(), run()]);
  assert.deepEqual([x.code, x.err, y.code, y.err], [0, '', 0, '']);
  const deleted = [x.out, y.out].flatMap((o) => o.split('\n').filter((l) => /^[0-9a-f]{64}$/.test(l)));
  assert.deepEqual(deleted.sort(), [...made].sort(), 'every one deleted, none twice');
  assert.equal(ok(['ps', '-aq', '-f', 'label=race=1']), '');
});
