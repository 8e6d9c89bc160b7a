/**
 * The event log without root: lines (docker's message shape, the 4 KiB bound, torn lines),
 * the monitor's line templates, docker's filters and times, and FileEventLog on a temp
 * directory: replay, follow, rotation while following, many writing processes at once,
 * and writers SIGKILLed while they append.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileEventLog } from '../../../src/engine/events/file-log.js';
import { eventFilter, parseEventTime } from '../../../src/engine/events/filter.js';
import { containerEvent, encodeEvent, type EventMessage, imageEvent, LINE_MAX, monitorTemplate, parseEventLine, stamp } from '../../../src/engine/events/message.js';
import { readTextSync } from '../../../src/util/read-text.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'brig-events-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(tmp, `log${n++}`);
const APPENDER = path.join(import.meta.dirname, '../../support/events-appender.js');
const NODE = process.execPath;

const T = 1_704_067_245_123_456_789n; // 2024-01-01T00:00:45.123456789Z
const ctr = { id: 'c'.repeat(64), name: 'web', image: 'busybox:latest', labels: { app: 'shop', 'com.x': 'y' } };

test("a container event: labels, image and name as attributes, docker's deprecated fields, Go's key order, exact nanoseconds", () => {
  const m = stamp(containerEvent('die', ctr, { exitCode: '3' }), T);
  const line = encodeEvent(m);
  assert.equal(
    line,
    `{"status":"die","id":"${ctr.id}","from":"busybox:latest","Type":"container","Action":"die","Actor":{"ID":"${ctr.id}","Attributes":{"app":"shop","com.x":"y","image":"busybox:latest","name":"web","exitCode":"3"}},"scope":"local","time":1704067245,"timeNano":1704067245123456789}\n`,
  );
  const back = parseEventLine(line.trim())!;
  assert.equal(back.timeNano, T, 'not rounded through a double');
  assert.deepEqual(back, m);
  // A label named like a docker attribute is overridden by it, as docker's copy order does.
  assert.equal(containerEvent('start', { ...ctr, labels: { name: 'label' } }).Actor.Attributes.name, 'web');
  assert.deepEqual(stamp(imageEvent('pull', 'busybox:latest', 'busybox'), T), {
    status: 'pull', id: 'busybox:latest', Type: 'image', Action: 'pull', Actor: { ID: 'busybox:latest', Attributes: { name: 'busybox' } }, scope: 'local', time: 1704067245, timeNano: T,
  });
});

test('a line stays under 4 KiB: long labels are cut, then dropped; name, image and exitCode stay', () => {
  const labels = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`label.${String(i).padStart(2, '0')}`, 'v'.repeat(300)]));
  const line = encodeEvent(stamp(containerEvent('die', { ...ctr, labels }, { exitCode: '137' }), T));
  assert.ok(Buffer.byteLength(line) <= LINE_MAX, String(Buffer.byteLength(line)));
  const m = parseEventLine(line.trim())!;
  assert.equal(m.Actor.Attributes.name, 'web');
  assert.equal(m.Actor.Attributes.exitCode, '137');
  assert.equal(m.Actor.Attributes['label.00'], `${'v'.repeat(128)}…`, 'the first labels kept, cut');
  assert.equal(m.Actor.Attributes['label.59'], undefined, 'the last ones dropped');
  // One huge value alone is cut too.
  const one = encodeEvent(stamp(containerEvent('create', { ...ctr, labels: { big: 'é'.repeat(5000) } }), T));
  assert.ok(Buffer.byteLength(one) <= LINE_MAX);
});

test("a torn line (its writer killed inside write) is skipped, and the event glued behind it is still read", () => {
  const whole = encodeEvent(stamp(containerEvent('start', ctr), T)).trim();
  const torn = encodeEvent(stamp(containerEvent('die', { ...ctr, labels: { a: '{"status":"x"} }' } }), T)).slice(0, 150);
  assert.equal(parseEventLine(torn), undefined);
  assert.deepEqual(parseEventLine(torn + whole)?.Action, 'start');
  assert.equal(parseEventLine('not json'), undefined);
  assert.equal(parseEventLine('{"Type":"container"}'), undefined, 'not an event');
});

/* eslint-disable no-control-regex -- the places are control bytes */
test('the monitor template: the JSON final but for 0x01 places (time, nanoseconds, attributes), and what the monitor makes of it parses', () => {
  const line = monitorTemplate(containerEvent('die', { ...ctr, labels: { weird: '\u0001x "@q@"' } }), { exitCode: 'x', execDuration: 'd' });
  assert.ok(line.endsWith('\n'));
  assert.equal(line.match(/\u0001/g)?.length, 4, 'the label\'s own control byte is escaped, not a place');
  assert.match(line, /"exitCode":"\u0001x","execDuration":"\u0001d"\}\},"scope":"local","time":\u0001t,"timeNano":\u0001n\}\n$/);
  // What events.c does: each place expanded.
  const filled = line.replace(/\u0001(.)/g, (_m, k: string) => ({ t: '1704067245', n: String(T), x: '3', d: '12' })[k]!);
  const m = parseEventLine(filled.trim())!;
  assert.equal(m.Actor.Attributes.exitCode, '3');
  assert.equal(m.Actor.Attributes.weird, '\u0001x "@q@"');
  assert.equal(m.timeNano, T);
});

/* eslint-enable no-control-regex */

const ev = (type: string, action: string, id: string, attrs: Record<string, string>): EventMessage => ({ Type: type, Action: action, Actor: { ID: id, Attributes: attrs }, scope: 'local', time: 0, timeNano: 0n });

test("docker's event filters: type, event (exec_* by prefix), container by id or name prefix, image with or without tag, label", () => {
  const die = ev('container', 'die', 'abc123', { name: 'web', image: 'busybox:latest', app: 'shop' });
  const exec = ev('container', 'exec_start: sh -c true', 'abc123', { name: 'web', image: 'busybox:latest' });
  const pull = ev('image', 'pull', 'busybox:latest', { name: 'busybox' });
  const ok = (f: Record<string, string[]>, m: EventMessage) => eventFilter(f)(m);
  assert.ok(ok({}, die));
  assert.ok(ok({ type: ['container'] }, die) && !ok({ type: ['image'] }, die) && ok({ type: ['image', 'container'] }, die));
  assert.ok(ok({ event: ['die'] }, die) && !ok({ event: ['di'] }, die), 'exact');
  assert.ok(!ok({ event: ['exec_start'] }, die) && ok({ event: ['exec_start'] }, exec) && !ok({ event: ['die'] }, exec), 'exec_start by prefix');
  assert.ok(ok({ container: ['web'] }, die) && ok({ container: ['abc'] }, die) && ok({ container: ['we'] }, die) && !ok({ container: ['other'] }, die));
  assert.ok(!ok({ container: ['web'] }, pull), 'a container filter leaves other objects out');
  assert.ok(ok({ image: ['busybox'] }, die) && ok({ image: ['busybox:latest'] }, die) && ok({ image: ['busybox'] }, pull) && !ok({ image: ['alpine'] }, die));
  assert.ok(ok({ label: ['app'] }, die) && ok({ label: ['app=shop'] }, die) && !ok({ label: ['app=x'] }, die) && !ok({ label: ['app', 'other'] }, die));
  assert.ok(ok({ scope: ['local'] }, die) && !ok({ scope: ['swarm'] }, die));
});

test("docker's event times: unix seconds with nanoseconds, RFC 3339, durations back from now", () => {
  const now = 1_700_000_000_000_000_000n;
  assert.equal(parseEventTime('1704067245.123456789', now, 'since'), T);
  assert.equal(parseEventTime('1704067245', now, 'since'), 1_704_067_245_000_000_000n);
  assert.equal(parseEventTime('2024-01-01T00:00:45.123456789Z', now, 'since'), T);
  assert.equal(parseEventTime('10m', now, 'since'), now - 600_000_000_000n);
  assert.equal(parseEventTime('1h30m', now, 'until'), now - 5_400_000_000_000n);
  assert.throws(() => parseEventTime('yesterday', now, 'since'), /invalid since timestamp/);
});

async function collect(it: AsyncIterable<EventMessage>, want: number, ms = 10_000): Promise<EventMessage[]> {
  const out: EventMessage[] = [];
  const deadline = Date.now() + ms;
  for await (const m of it) {
    out.push(m);
    if (out.length >= want || Date.now() > deadline) break;
  }
  return out;
}

test('FileEventLog: replay with since/until, and without since only what comes after the start', async () => {
  let clock = 1_000_000_000_000n;
  const log = new FileEventLog({ dir: freshDir(), now: () => clock });
  for (const a of ['create', 'start', 'die']) {
    log.append(containerEvent(a, ctr));
    clock += 1_000_000_000n;
  }
  const all = await collect(log.read({ since: 0n, until: clock }), 10);
  assert.deepEqual(all.map((m) => m.Action), ['create', 'start', 'die']);
  const mid = await collect(log.read({ since: 1_001_000_000_000n, until: 1_001_000_000_000n }), 10);
  assert.deepEqual(mid.map((m) => m.Action), ['start'], 'since and until both inclusive');
  // Following from now: only the new event.
  const stop = new AbortController();
  const live = collect(log.read({ signal: stop.signal }), 1);
  await sleep(100);
  log.append(containerEvent('destroy', ctr));
  assert.deepEqual((await live).map((m) => m.Action), ['destroy']);
  stop.abort();
});

test('FileEventLog: a follower keeps following across rotations, missing nothing; one old file is kept', async () => {
  const dir = freshDir();
  const log = new FileEventLog({ dir, maxSize: 4096 });
  const stop = new AbortController();
  const seen = collect(log.read({ signal: stop.signal }), 200, 20_000);
  await sleep(100);
  // About ten events a file: the follower is woken by each append (inotify), and may fall
  // behind by a whole file now and then.
  for (let i = 0; i < 200; i++) {
    log.append(containerEvent('exec_die', ctr, { seq: String(i) }));
    if (i % 5 === 0) await sleep(10);
  }
  const got = await seen;
  stop.abort();
  assert.deepEqual(got.map((m) => Number(m.Actor.Attributes.seq)), Array.from({ length: 200 }, (_, i) => i));
  assert.deepEqual(readdirSync(dir).sort(), ['events.jsonl', 'events.jsonl.1']);
  const kept = readTextSync(path.join(dir, 'events.jsonl')).length + readTextSync(path.join(dir, 'events.jsonl.1')).length;
  assert.ok(kept < 3 * 4096, `bounded: ${kept} bytes`);
});

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(NODE, [APPENDER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ code, stderr }));
  });
}

const linesOf = (file: string) => (existsSync(file) ? readTextSync(file).split('\n').slice(0, -1) : []);

test('20 processes x 200 events at once: every line whole, every event there once', { timeout: 180_000 }, async () => {
  const dir = freshDir();
  const done = await Promise.all(Array.from({ length: 20 }, (_, w) => run([dir, '200', `w${w}`])));
  for (const d of done) assert.equal(d.code, 0, d.stderr);
  const lines = linesOf(path.join(dir, 'events.jsonl'));
  assert.equal(lines.length, 4000);
  const seen = new Set<string>();
  for (const l of lines) {
    const m = JSON.parse(l) as EventMessage; // strictly: no recovery needed
    seen.add(m.Actor.ID);
  }
  assert.equal(seen.size, 4000);
});

test('many processes at once across rotations: both files hold only whole lines', { timeout: 180_000 }, async () => {
  const dir = freshDir();
  const done = await Promise.all(Array.from({ length: 10 }, (_, w) => run([dir, '300', `r${w}`, String(64 * 1024)])));
  for (const d of done) assert.equal(d.code, 0, d.stderr);
  const lines = [...linesOf(path.join(dir, 'events.jsonl.1')), ...linesOf(path.join(dir, 'events.jsonl'))];
  // About 36 lines of 1.8 KB a file: two files' worth kept, of the 3,000 written.
  assert.ok(lines.length >= 30 && lines.length < 200, String(lines.length));
  for (const l of lines) JSON.parse(l);
  // The last append may itself have rotated: then `events.jsonl` comes back with the next
  // append, and only `.1` is there now. Nothing else may be (the lock, a stale lock).
  const left = readdirSync(dir).sort();
  assert.ok(left.includes('events.jsonl.1'), left.join(' '));
  assert.deepEqual(left.filter((f) => f !== 'events.jsonl' && f !== 'events.jsonl.1'), [], 'no lock left behind');
});

test('writers SIGKILLed while they append: lines never mix; at most each killed write is torn, and the reader skips it', { timeout: 180_000 }, async () => {
  const dir = freshDir();
  const file = path.join(dir, 'events.jsonl');
  for (let round = 0; round < 5; round++) {
    const before = linesOf(file).length;
    const kids = Array.from({ length: 6 }, (_, w) => spawn(NODE, [APPENDER, dir, '0', `k${round}-${w}`], { stdio: 'ignore' }));
    // Killed while they write: once they are writing (a loaded machine starts Node slowly).
    for (let i = 0; i < 300 && linesOf(file).length < before + 30; i++) await sleep(20);
    await sleep(50 + round * 50);
    for (const k of kids) k.kill('SIGKILL');
    await Promise.all(kids.map((k) => new Promise((r) => (k.exitCode !== null || k.signalCode !== null ? r(null) : k.once('exit', r)))));
  }
  // The kernel may cut a write(2) to a file short when SIGKILL arrives between its pages: that
  // one write's line is torn (the next writer's line follows it on the same line). Never two
  // writers' bytes inside one event, and the reader (parseEventLine) skips what does not parse.
  // Both files: on a quiet machine six writers pass the 8 MiB rotation size within a round,
  // and events.jsonl then holds only what came after the last rotation.
  const text = ['events.jsonl.1', 'events.jsonl'].map((f) => (existsSync(path.join(dir, f)) ? readTextSync(path.join(dir, f)) : '')).join('');
  const lines = text.split('\n').filter(Boolean);
  assert.ok(lines.length > 100, String(lines.length));
  // A line is one whole event, or a torn write's bytes followed by at most one whole event
  // (the next writer's, which the reader recovers), or a torn write alone (the reader skips it).
  let torn = 0;
  for (const l of lines) {
    const m = parseEventLine(l);
    const whole = m === undefined ? '' : encodeEvent(m).slice(0, -1);
    if (whole === l) continue;
    torn++;
    if (m === undefined) continue;
    // What comes before the recovered event: a torn write (no event), or a whole one whose newline was cut off.
    const prefix = l.slice(0, l.length - whole.length);
    const p = parseEventLine(prefix);
    assert.ok(l.endsWith(whole) && (p === undefined || encodeEvent(p) === `${prefix}\n`), `a torn write, then one whole event: ${l.slice(0, 200)}`);
  }
  assert.ok(torn <= 30, `${torn} torn lines for 30 killed writers`);
});

test('a stale rotation lock (its owner dead) is taken over; a live one is left to its owner', () => {
  const dir = freshDir();
  const log = new FileEventLog({ dir, maxSize: 200 });
  log.append(containerEvent('create', ctr));
  writeFileSync(path.join(dir, 'rotate.lock'), '999999999-1');
  log.append(containerEvent('start', ctr));
  assert.deepEqual(readdirSync(dir).sort(), ['events.jsonl.1']);
  writeFileSync(path.join(dir, 'rotate.lock'), `${process.pid}-${readTextSync(`/proc/${process.pid}/stat`).split(') ')[1]!.split(' ')[19]}`);
  log.append(containerEvent('die', ctr));
  log.append(containerEvent('destroy', ctr));
  assert.deepEqual(readdirSync(dir).sort(), ['events.jsonl', 'events.jsonl.1', 'rotate.lock'], 'not rotated while someone alive holds the lock');
});
