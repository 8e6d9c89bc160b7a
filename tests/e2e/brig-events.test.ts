/**
 * brig events through the real binary: a die with its exit code reaches a stream that was
 * started before the container (written by the container's monitor, no CLI involved),
 * history replays with --since/--until, docker's filters and formats, docker's order for
 * stop, and CLI processes SIGKILLed while they work leave only whole lines in the log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper');
const root = mkdtempSync(path.join(tmpdir(), 'brig-events-'));
const data = path.join(root, 'data');
const { env, brig, ok } = brigCli(data);
const logFile = path.join(data, 'events', 'events.jsonl');
const nowSecs = () => (Date.now() / 1000).toFixed(3);

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

/** `brig events ARGS` in the background: its lines as they come, and how it ended. */
function stream(args: string[]) {
  const child = spawn(BRIG, ['events', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ended = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    lines: () => out.split('\n').filter(Boolean),
    stderr: () => err,
    async waitFor(re: RegExp, ms = 20_000): Promise<string> {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const hit = out.split('\n').find((l) => re.test(l));
        if (hit) return hit;
        await sleep(50);
      }
      assert.fail(`no line matching ${re} within ${ms} ms; got:\n${out}${err}`);
    },
    async interrupt(): Promise<number | null> {
      child.kill('SIGINT');
      return ended;
    },
    ended,
  };
}

let exited = { id: '', from: '', to: '' };

test('a die with its exit code reaches `brig events` while it streams; Ctrl-C ends it with 0', { skip }, async () => {
  ok(['ps']); // the data root exists before the stream opens the log
  const s = stream([]);
  await sleep(1000); // node start-up: the stream begins at the log's end
  const from = nowSecs();
  const id = ok(['run', '-d', '--name', 'three', '--label', 'team=blue', 'host', 'sh', '-c', 'sleep 0.5; exit 3']).trim();
  const line = await s.waitFor(new RegExp(`container die ${id} `));
  assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(execDuration=\d+, exitCode=3, image=host, name=three, team=blue\)$/);
  await s.waitFor(new RegExp(`container start ${id} `));
  assert.equal(await s.interrupt(), 0, s.stderr());
  assert.deepEqual(
    s.lines().filter((l) => l.includes(id)).map((l) => l.split(' ')[2]),
    ['create', 'start', 'die'],
    "docker's order",
  );
  exited = { id, from, to: nowSecs() };
});

test('history: --since and --until replay what was, in order, and end; filters and --format as docker', { skip }, () => {
  assert.ok(exited.id, 'needs the first test');
  const { id, from, to } = exited;
  const replay = (extra: string[]) => ok(['events', '--since', from, '--until', to, ...extra]);
  assert.deepEqual(replay(['--format', '{{.Action}}', '-f', `container=${id}`]).trim().split('\n'), ['create', 'start', 'die']);
  assert.equal(replay(['--format', '{{.Action}} {{.Actor.Attributes.exitCode}}', '-f', 'event=die', '-f', 'container=three']), 'die 3\n');
  assert.equal(replay(['-f', 'type=image']), '');
  assert.equal(replay(['--format', '{{.Action}}', '-f', 'label=team=blue', '-f', 'event=start']), 'start\n');
  assert.equal(replay(['-f', 'label=team=red']), '');
  assert.equal(ok(['events', '--since', '0', '--until', from, '-f', `container=${id}`]), '', 'nothing of it before it was made');
  const json = JSON.parse(replay(['--format', 'json', '-f', 'event=die'])) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
  assert.equal((json.Actor as { Attributes: Record<string, string> }).Attributes.exitCode, '3');
  // The system alias, and docker's errors.
  assert.equal(ok(['system', 'events', '--since', from, '--until', to, '--format', '{{.Action}}', '-f', 'event=create']), 'create\n');
  const bad = brig(['events', '--format', '{{.Nope}}']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /^Error parsing format: .*can't evaluate field Nope/);
  const order = brig(['events', '--since', '2h', '--until', '3h']);
  assert.equal(order.code, 1);
  assert.match(order.stderr, /`since` time \(2h\) cannot be after `until` time \(3h\)/);
});

test("stop: kill with the stop signal, kill 9 after the timeout, die, stop — docker's order; rm -f: kill, die, destroy", { skip }, () => {
  const from = nowSecs();
  const id = ok(['run', '-d', 'host', 'sleep', '100']).trim();
  ok(['stop', '-t', '1', id]);
  ok(['start', id]);
  ok(['rm', '-f', id]);
  const got = ok(['events', '--since', from, '--until', nowSecs(), '-f', `container=${id}`, '--format', '{{.Action}}{{with .Actor.Attributes.signal}} {{.}}{{end}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}']);
  assert.deepEqual(got.trim().split('\n'), ['create', 'start', 'kill 15', 'kill 9', 'die 137', 'stop', 'start', 'kill 9', 'die 137', 'destroy']);
});

test('CLI processes SIGKILLed in the middle of their work leave only whole lines in the log', { skip }, async () => {
  for (let round = 0; round < 4; round++) {
    const kids = Array.from({ length: 6 }, (_, i) => spawn(BRIG, ['run', '-d', '--name', `k${round}-${i}`, 'host', 'true'], { env, stdio: 'ignore' }));
    await sleep(150 + round * 120);
    for (const k of kids) k.kill('SIGKILL');
    await Promise.all(kids.map((k) => new Promise((r) => (k.exitCode !== null || k.signalCode !== null ? r(null) : k.once('exit', r)))));
  }
  await sleep(500); // monitors of containers that did start append their die
  const text = readTextSync(logFile);
  assert.ok(text.endsWith('\n'));
  for (const l of text.split('\n').slice(0, -1)) JSON.parse(l);
  for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
});
