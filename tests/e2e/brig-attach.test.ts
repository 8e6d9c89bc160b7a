/**
 * Terminals and attach through the real brig binary, under a real pty (tests/support/pty-driver.py
 * plays the user's terminal): `run -it` gets the caller's window size and follows resizes,
 * leaves the terminal as it found it, detaches with ctrl-p ctrl-q (or --detach-keys) leaving
 * the container running, `attach` reaches the same shell again, a SIGKILLed brig leaves the
 * container running; without a tty, stdout and stderr stay apart, stdin closes cleanly and a
 * foreground run passes signals on (--sig-proxy). `start -a` attaches before the container runs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { repoRoot, requires } from '../support/requires.js';

const DRIVER = path.join(repoRoot, 'tests', 'support', 'pty-driver.py');
const skip = requires('root', 'helper', 'python3');
const root = mkdtempSync(path.join(tmpdir(), 'brig-attach-'));
const data = path.join(root, 'data');
const { env, brig, ok, traces } = brigCli(data);

type Step = { size: [number, number] } | { expect: string } | { send: string } | { sleep: number } | { kill: number };

/** brig on a pty of its own, driven by `steps`; what the terminal showed (CRs dropped), its status, whether it is canonical again. */
function onPty(steps: Step[], args: string[]): { out: string; raw: string; status: number; icanon: boolean; opost: boolean; failed: string | null } {
  const r = spawnSync('python3', [DRIVER, JSON.stringify(steps), BRIG, ...args], { env, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, `pty driver: ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { out: string; status: number; icanon: boolean; opost: boolean; failed: string | null };
  return { ...res, raw: res.out, out: res.out.replace(/\r/g, '') };
}

const idOf = (name: string) => (JSON.parse(ok(['inspect', name])) as { Id: string }[])[0]!.Id;
const status = (name: string) => (JSON.parse(ok(['inspect', name])) as { State: { Status: string; ExitCode: number } }[])[0]!.State;

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

const PROMPT = '# $';

test("run -it: a pty of the caller's size, the container's exit code, the terminal restored; the container is kept", { skip }, () => {
  const r = onPty([{ size: [33, 99] }, { expect: PROMPT }, { send: 'stty size; tty; exit 3\n' }], ['run', '-it', '--name', 'it1', 'host', 'sh']);
  assert.equal(r.failed, null, r.out);
  assert.match(r.out, /^33 99$/m, r.out);
  assert.match(r.out, /^\/dev\/pts\/\d+$/m, r.out);
  assert.equal(r.status, 3, r.out);
  assert.equal(r.icanon, true, "the caller's terminal is left raw");
  assert.equal(r.opost, true, "the caller's terminal is left without output processing");
  assert.doesNotMatch(r.raw, /\r\r\n/, 'the container\'s pty turns \\n into \\r\\n; ours must not add another \\r');
  assert.deepEqual([status('it1').Status, status('it1').ExitCode], ['exited', 3]);
  // Output from the very start reaches the terminal: brig is attached before the container runs.
  const early = onPty([], ['run', '-t', '--name', 'it2', 'host', 'sh', '-c', 'echo first-line; exit 4']);
  assert.match(early.out, /^first-line$/m);
  assert.equal(early.status, 4);
  const id = idOf('it1');
  ok(['rm', 'it1', 'it2']);
  assert.deepEqual(traces(id), []);
});

test('resizes of the caller\'s terminal follow into the container', { skip }, () => {
  const r = onPty(
    [{ size: [20, 60] }, { expect: PROMPT }, { send: 'stty size\n' }, { expect: '^20 60\r' }, { size: [50, 150] }, { sleep: 0.5 }, { send: 'stty size; exit\n' }],
    ['run', '-it', '--name', 'rs', 'host', 'sh'],
  );
  assert.equal(r.failed, null, r.out);
  assert.match(r.out, /^50 150$/m, r.out);
  assert.equal(r.status, 0);
  assert.equal(r.icanon, true);
  ok(['rm', 'rs']);
});

test('ctrl-p ctrl-q detaches leaving the container running; attach reaches the same shell; --detach-keys; exit ends attach with its code', { skip }, () => {
  const first = onPty([{ size: [30, 90] }, { expect: PROMPT }, { send: 'KEPT=still-here\n' }, { expect: PROMPT }, { send: '\u0010\u0011' }], ['run', '-it', '--name', 'dt', 'host', 'sh']);
  assert.equal(first.failed, null, first.out);
  assert.equal(first.status, 0, 'run -it exits 0 on detach, as docker');
  assert.equal(first.icanon, true);
  assert.equal(status('dt').Status, 'running');
  assert.match(ok(['ps']), /Up .*\s+dt$/m);
  // Again, on a terminal of another size; ctrl-p then something else reaches the shell as typed.
  const again = onPty(
    [{ size: [40, 100] }, { sleep: 0.3 }, { send: 'echo "kept=$KEPT"; stty size\n' }, { expect: '^40 100\r' }, { send: '\u0010\u0003' }, { expect: PROMPT }, { send: '\u0001x' }],
    ['attach', '--detach-keys', 'ctrl-a,x', 'dt'],
  );
  assert.equal(again.failed, null, again.out);
  assert.match(again.out, /^kept=still-here$/m, again.out);
  assert.match(again.out, /read escape sequence/, 'attach reports the detach, as docker');
  assert.equal(again.status, 1);
  assert.equal(again.icanon, true);
  assert.equal(status('dt').Status, 'running');
  const last = onPty([{ sleep: 0.3 }, { send: 'exit 6\n' }], ['attach', 'dt']);
  assert.equal(last.status, 6, last.out);
  assert.equal(last.icanon, true);
  assert.equal(status('dt').ExitCode, 6);
  const id = idOf('dt');
  ok(['rm', 'dt']);
  assert.deepEqual(traces(id), []);
});

test('a SIGKILLed brig run -it leaves the container running, to attach again; a SIGTERMed one restores the terminal first', { skip }, () => {
  const r = onPty([{ expect: PROMPT }, { send: 'ALIVE=yes\n' }, { expect: PROMPT }, { kill: 9 }], ['run', '-it', '--name', 'orphan', 'host', 'sh']);
  assert.equal(r.status, -9);
  assert.equal(status('orphan').Status, 'running');
  assert.match(ok(['ps']), /Up .*\s+orphan$/m);
  const back = onPty([{ sleep: 0.3 }, { send: 'echo "alive=$ALIVE"; exit 2\n' }, { expect: 'alive=yes' }], ['attach', 'orphan']);
  assert.equal(back.failed, null, back.out);
  assert.equal(back.status, 2);
  const id = idOf('orphan');
  ok(['rm', 'orphan']);
  assert.deepEqual(traces(id), []);
  // A brig that is told to end (SIGTERM, SIGHUP) puts the terminal back first; the container runs on.
  const term = onPty([{ expect: PROMPT }, { kill: 15 }], ['run', '-it', '--name', 'termed', 'host', 'sh']);
  assert.deepEqual([term.status, term.icanon, term.opost], [143, true, true]);
  assert.equal(status('termed').Status, 'running');
  ok(['rm', '-f', 'termed']);
});

test('attach without a tty: stdout and stderr apart, stdin to a container made with -i, closed at our end of input', { skip }, async () => {
  ok(['run', '-d', '--name', 'nt', 'host', 'sh', '-c', 'sleep 1; echo out; echo err >&2; exit 5']);
  const a = brig(['attach', 'nt']);
  assert.equal(a.code, 5, a.stderr);
  assert.equal(a.stdout, 'out\n');
  assert.equal(a.stderr, 'err\n');
  ok(['run', '-d', '-i', '--name', 'cat', 'host', 'sh', '-c', 'cat; echo "cat saw the end"']);
  const c = brig(['attach', 'cat'], 'through attach\n');
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, 'through attach\ncat saw the end\n');
  // Input that ends as the container does must not cost the output still on its way (a write
  // after the monitor hung up once took the unread output with it): several at once, to race.
  const runs = await Promise.all(
    [1, 2, 3, 4, 5, 6].map(
      (n) =>
        new Promise<string>((resolve) => {
          const r = spawn(BRIG, ['run', '-i', 'host', 'sh', '-c', 'read l; echo "got $l"'], { env });
          let o = '';
          r.stdout.on('data', (d) => (o += d));
          r.on('close', () => resolve(o));
          r.stdin.end(`line ${n}\n`);
        }),
    ),
  );
  assert.deepEqual(runs, [1, 2, 3, 4, 5, 6].map((n) => `got line ${n}\n`));
  const stopped = brig(['attach', 'nt']);
  assert.equal(stopped.code, 125);
  assert.match(stopped.stderr, /cannot attach to a stopped container, start it first/);
  ok(['rm', 'nt', 'cat']);
});

test('start -a attaches before the container runs (its exit code); start -ai feeds stdin', { skip }, () => {
  ok(['create', '--name', 'sa', 'host', 'sh', '-c', 'echo from-start; echo e >&2; exit 2']);
  const s = brig(['start', '-a', 'sa']);
  assert.deepEqual([s.code, s.stdout, s.stderr], [2, 'from-start\n', 'e\n']);
  ok(['create', '-i', '--name', 'sai', 'host', 'sh', '-c', 'read l; echo "got $l"']);
  const i = brig(['start', '-ai', 'sai'], 'a line\n');
  assert.deepEqual([i.code, i.stdout], [0, 'got a line\n']);
  assert.match(brig(['start', '-a', 'sa', 'sai']).stderr, /you cannot start and attach multiple containers at once/);
  ok(['rm', 'sa', 'sai']);
});

test('a foreground run passes signals to the container (--sig-proxy); bad --detach-keys are refused before anything is made', { skip }, async () => {
  const c = spawn(BRIG, ['run', '--name', 'sp', 'host', 'sh', '-c', 'trap "echo got-usr1; exit 9" USR1; echo ready; while true; do sleep 0.1; done'], { env });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  const code = new Promise<number | null>((r) => c.on('close', r));
  for (let i = 0; i < 200 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
  c.kill('SIGUSR1');
  assert.equal(await code, 9);
  assert.equal(out, 'ready\ngot-usr1\n');
  ok(['rm', 'sp']);
  const before = readdirSync(path.join(data, 'containers')).length;
  const bad = brig(['run', '-it', '--detach-keys', 'ctrl-1', 'host', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /Invalid detach keys \(ctrl-1\) provided/);
  assert.equal(readdirSync(path.join(data, 'containers')).length, before);
});
