/**
 * The per-container monitor on real containers: brig-runtime (the starter) runs a busybox
 * bundle detached, the monitor holds its stdio, writes docker's json-file log (rotating it),
 * serves the attach socket, records the exit (status, signal, OOM kills) and runs the
 * on-exit command — and all of that goes on after the process that started it has exited.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { exitCode, monitorBinary, readExitRecord, startMonitor } from '../../../src/engine/monitor/monitor.js';
import { encodeMonitorPlan, type MonitorSpec } from '../../../src/engine/monitor/plan.js';
import { containerEvent, monitorTemplate, parseEventLine } from '../../../src/engine/events/message.js';
import { leftovers } from '../../support/bundle.js';
import { box, driveWith, waitExit, waitGone } from '../../support/monitor-box.js';
import { repoRoot, requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox') || (existsSync(path.join(repoRoot, 'native/build/brig-monitor')) ? false : 'brig-monitor not built');

const records = (file: string) =>
  readTextSync(file)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { log: string; stream: string; time: string });

test("json-file log in docker's format, stdout and stderr apart, exit record, on-exit clean-up", { skip }, async () => {
  const x = box(['sh', '-c', 'echo out1; echo err1 >&2; echo "<tag> & \\"q\\""; printf partial']);
  try {
    const s = await startMonitor(x.plan);
    assert.ok(s.pid > 0);
    const r = await waitExit(x.plan);
    await waitGone(s.monitorPid);
    assert.equal(r.exitStatus, 0);
    assert.equal(exitCode(r), 0);
    assert.equal(r.pid, s.pid);
    const lines = readTextSync(x.plan.files.log!).trim().split('\n');
    const recs = lines.map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
    assert.deepEqual(
      recs.map((l) => [l.stream, l.log]).sort(),
      [['stderr', 'err1\n'], ['stdout', '<tag> & "q"\n'], ['stdout', 'out1\n'], ['stdout', 'partial']].sort(),
    );
    // Go's encoding: <, > and & escaped; RFC 3339 with nanoseconds, trailing zeros dropped.
    assert.ok(lines.some((l) => l.includes('\\u003ctag\\u003e \\u0026 \\"q\\"')), lines.join('\n'));
    for (const l of recs) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    assert.equal(statSync(x.plan.files.log!).mode & 0o777, 0o600);
    assert.deepEqual(leftovers(x.b), [], 'the on-exit delete removed state dir and cgroups');
  } finally {
    x.cleanup();
  }
});

test('exit grace: a record removed within it means no on-exit or final command; one still there after it gets both', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-grace-'));
  try {
    for (const removed of [true, false]) {
      const record = path.join(dir, `record-${removed}`);
      const ran = path.join(dir, `ran-${removed}`);
      writeFileSync(record, '');
      const x = box(['true'], { exitGrace: { path: record, ms: 800 }, finalExit: { argv: ['/bin/sh', '-c', `touch ${ran}`], env: [] } });
      try {
        const s = await startMonitor(x.plan);
        await waitExit(x.plan);
        const t0 = Date.now();
        if (removed) rmSync(record);
        await waitGone(s.monitorPid);
        const waited = Date.now() - t0;
        assert.equal(existsSync(ran), !removed, removed ? 'nothing run: the engine removed it' : 'its own clean-up after the grace');
        if (removed) assert.ok(waited < 700, `the monitor left at once (${waited} ms)`);
        else assert.ok(waited >= 600, `the monitor waited out the grace (${waited} ms)`);
      } finally {
        x.cleanup();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exit status and the signal that ended init', { skip }, async () => {
  const a = box(['sh', '-c', 'exit 3']);
  // As pid 1 of its namespace init cannot kill itself; the host does it.
  const k = box(['sleep', '30']);
  try {
    const [ra, rk] = await Promise.all([
      startMonitor(a.plan).then(() => waitExit(a.plan)),
      startMonitor(k.plan).then((s) => {
        process.kill(s.pid, 'SIGKILL');
        return waitExit(k.plan);
      }),
    ]);
    assert.equal(exitCode(ra), 3);
    assert.equal(rk.signal, 9);
    assert.equal(exitCode(rk), 137);
  } finally {
    a.cleanup();
    k.cleanup();
  }
});

/** The monitor's event ops for a box: start, die (exitCode, execDuration) and oom, into `file`. */
function eventOps(file: string, id: string): NonNullable<MonitorSpec['events']> {
  const actor = { id, name: 'boxed', image: 'busybox', labels: { 'x.y': 'a "quoted" \\ label' } };
  return [
    { path: file, on: 'start', line: monitorTemplate(containerEvent('start', actor)) },
    { path: file, on: 'die', line: monitorTemplate(containerEvent('die', actor), { exitCode: 'x', execDuration: 'd' }) },
    { path: file, on: 'oom', line: monitorTemplate(containerEvent('oom', actor)) },
  ];
}

const eventsIn = (file: string) => (existsSync(file) ? readTextSync(file).split('\n').filter(Boolean).map((l) => parseEventLine(l) ?? assert.fail(`not an event: ${l}`)) : []);

test('events: the monitor appends start and die (exitCode, execDuration, the labels as compiled), die once the exit record is ready', { skip }, async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bm-events-')), 'events.jsonl');
  const id = `mon-ev-${process.pid}`;
  const x = box(['sh', '-c', 'sleep 1.2; exit 3'], { events: eventOps(file, id) });
  try {
    const before = BigInt(Date.now()) * 1_000_000n;
    await startMonitor(x.plan);
    // start is written before the engine hears of the start.
    assert.deepEqual(eventsIn(file).map((e) => e.Action), ['start']);
    const r = await waitExit(x.plan);
    assert.equal(exitCode(r), 3);
    const evs = eventsIn(file);
    assert.deepEqual(evs.map((e) => e.Action), ['start', 'die'], 'the die is there as soon as the exit record is');
    const die = evs[1]!;
    assert.deepEqual(die.Actor, { ID: id, Attributes: { 'x.y': 'a "quoted" \\ label', image: 'busybox', name: 'boxed', exitCode: '3', execDuration: '1' } });
    assert.equal(die.status, 'die');
    assert.equal(die.from, 'busybox');
    assert.ok(die.timeNano >= before && die.timeNano <= BigInt(Date.now()) * 1_000_000n, String(die.timeNano));
    assert.equal(BigInt(die.time), die.timeNano / 1_000_000_000n);
    assert.ok(readTextSync(file).endsWith('}\n'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  } finally {
    x.cleanup();
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test('the container and its monitor outlive the process that started them', { skip }, async () => {
  const x = box(['sh', '-c', 'sleep 1; echo after-the-cli']);
  try {
    // A stand-in CLI: a separate process starts the monitor and exits at once.
    const script = path.join(x.b.dir, 'cli.mjs');
    writeFileSync(script, `import { startMonitor } from ${JSON.stringify(path.join(repoRoot, 'dist/src/engine/monitor/monitor.js'))};
const plan = JSON.parse(process.argv[2]);
const s = await startMonitor(plan);
process.stdout.write(JSON.stringify(s));
process.exit(0);
`);
    const cli = spawnSync(process.execPath, [script, JSON.stringify(x.plan, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(cli.status, 0, cli.stderr);
    const s = JSON.parse(cli.stdout) as { monitorPid: number };
    process.kill(s.monitorPid, 0); // alive after its starter is gone
    const r = await waitExit(x.plan);
    assert.equal(r.exitStatus, 0);
    assert.deepEqual(records(x.plan.files.log!).map((l) => l.log), ['after-the-cli\n']);
  } finally {
    x.cleanup();
  }
});

test('rotation: max-size and max-file as docker applies them, and every kept line in order', { skip }, async () => {
  // 600 lines of ~100 bytes (about 140 bytes a record) into 10 KiB files, 3 kept.
  const x = box(['sh', '-c', 'i=0; while [ $i -lt 600 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done'], {
    log: { maxSize: 10 * 1024, maxFiles: 3 },
  });
  try {
    await startMonitor(x.plan);
    await waitExit(x.plan);
    const dir = path.dirname(x.plan.files.log!);
    const logs = readdirSync(dir).filter((f) => f.startsWith('json.log')).sort();
    assert.deepEqual(logs, ['json.log', 'json.log.1', 'json.log.2']);
    for (const f of logs) assert.ok(statSync(path.join(dir, f)).size < 10 * 1024 + 200, `${f} is ${statSync(path.join(dir, f)).size} bytes`);
    const kept = ['json.log.2', 'json.log.1', 'json.log'].flatMap((f) => records(path.join(dir, f)).map((r) => Number(/^line (\d+)/.exec(r.log)![1])));
    assert.equal(kept.at(-1), 599);
    kept.forEach((n, i) => i > 0 && assert.equal(n, kept[i - 1]! + 1));
  } finally {
    x.cleanup();
  }
});

/** A docker-framed attach client: stdin messages out, stdout/stderr frames in. */
function attach(sock: string) {
  const c = connect(sock);
  let buf = Buffer.alloc(0);
  const frames: [number, string][] = [];
  c.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 8 && buf.length >= 8 + buf.readUInt32BE(4)) {
      const n = buf.readUInt32BE(4);
      frames.push([buf[0]!, buf.subarray(8, 8 + n).toString()]);
      buf = buf.subarray(8 + n);
    }
  });
  const msg = (type: number, payload: Buffer) => {
    const h = Buffer.alloc(8);
    h[0] = type;
    h.writeUInt32BE(payload.length, 4);
    c.write(Buffer.concat([h, payload]));
  };
  return {
    ready: new Promise<void>((r) => c.once('connect', () => r())),
    closed: new Promise<void>((r) => c.once('close', () => r())),
    frames,
    stdin: (s: string) => msg(0, Buffer.from(s)),
    closeStdin: () => msg(1, Buffer.alloc(0)),
  };
}

test('attach: input reaches stdin, output comes back in docker stream frames, stdin closes cleanly', { skip }, async () => {
  const x = box(['sh', '-c', 'read a; echo "got $a"; echo warn >&2; cat; echo eof'], { stdin: true });
  try {
    await startMonitor(x.plan);
    const c = attach(x.plan.files.attach);
    await c.ready;
    c.stdin('hello\n');
    c.stdin('rest of input\n');
    c.closeStdin();
    const r = await waitExit(x.plan);
    await c.closed;
    assert.equal(r.exitStatus, 0);
    const out = c.frames.filter(([s]) => s === 1).map(([, t]) => t).join('');
    const err = c.frames.filter(([s]) => s === 2).map(([, t]) => t).join('');
    assert.equal(out, 'got hello\nrest of input\neof\n');
    assert.equal(err, 'warn\n');
  } finally {
    x.cleanup();
  }
});

test('hold: the container starts only once a client is attached, which gets all of its output (with a starter, and with the stage 0 the engine drives, forked only then); a failed attach or a gone engine starts nothing', { skip }, async () => {
  for (const stage0 of [false, true]) {
    const x = box(['sh', '-c', 'echo at-once; echo also >&2'], { hold: true, stage0 });
    try {
      let c: ReturnType<typeof attach> | undefined;
      await startMonitor(x.plan, {
        onListening: async () => {
          c = attach(x.plan.files.attach);
          await c.ready;
        },
        ...(stage0 ? { drive: driveWith(x) } : {}),
      });
      assert.equal((await waitExit(x.plan)).exitStatus, 0);
      await c!.closed;
      assert.deepEqual(c!.frames, [
        [1, 'at-once\n'],
        [2, 'also\n'],
      ]);
    } finally {
      x.cleanup();
    }
  }
  const y = box(['sh', '-c', 'echo never'], { hold: true });
  try {
    await assert.rejects(startMonitor(y.plan, { onListening: () => Promise.reject(new Error('no attach')) }), /no attach/);
    assert.equal(readExitRecord(y.plan), undefined);
    assert.deepEqual(leftovers(y.b), []);
    // The engine gone while the monitor waits (its end of fd 3 closed): the monitor exits, nothing ran.
    const m = spawn(monitorBinary(), [], { stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
    m.stdin!.end(encodeMonitorPlan(y.plan));
    const report = m.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    await new Promise<void>((r) => report.once('data', () => r()));
    report.destroy();
    const code = await new Promise<number | null>((r) => m.once('exit', r));
    assert.equal(code, 1);
    assert.equal(readExitRecord(y.plan), undefined);
    assert.deepEqual(leftovers(y.b), []);
  } finally {
    y.cleanup();
  }
});

test('a terminal: the pty master comes to the monitor through the console socket, output is logged raw', { skip }, async () => {
  const x = box(['sh', '-c', 'tty; echo on-the-pty'], { tty: true });
  try {
    await startMonitor(x.plan);
    const r = await waitExit(x.plan);
    assert.equal(r.exitStatus, 0);
    const text = records(x.plan.files.log!).map((l) => l.log).join('');
    assert.match(text, /^\/dev\/pts\/\d+\r\non-the-pty\r\n$/);
    assert.ok(!existsSync(x.plan.files.console!), 'the console socket is removed once used');
  } finally {
    x.cleanup();
  }
});

test('OOM: a container killed by its memory cgroup is recorded with its OOM kills, and an oom event comes before its die', { skip: skip || requires('cgroup-v1') }, async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bm-events-')), 'events.jsonl');
  const x = box(['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'], {
    events: eventOps(file, 'oomed'),
    oom: true,
    edit: (s) => (s.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } }),
  });
  try {
    await startMonitor(x.plan);
    const r = await waitExit(x.plan, 30_000);
    assert.equal(r.signal, 9);
    assert.equal(exitCode(r), 137);
    assert.ok(r.oomKills >= 1, JSON.stringify(r));
    assert.deepEqual(
      eventsIn(file).map((e) => `${e.Action} ${e.Actor.Attributes.exitCode ?? ''}`),
      ['start ', 'oom ', 'die 137'],
    );
  } finally {
    x.cleanup();
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test('a starter that fails is reported, and nothing is left', { skip }, async () => {
  const x = box(['/no/such/program']);
  try {
    await assert.rejects(startMonitor(x.plan), /the container did not start: its runtime exited with status 1/);
    assert.match(readTextSync(path.join(path.dirname(x.plan.files.exit), 'runtime.log')), /no\/such\/program/);
    assert.equal(readExitRecord(x.plan), undefined);
    assert.deepEqual(leftovers(x.b), []);
  } finally {
    x.cleanup();
  }
});

test('stage0: the engine drives the stage 0 the monitor forked (no starter); log, exit record and on-exit as with a starter; restarts use the starter', { skip }, async () => {
  const x = box(['sh', '-c', 'echo driven; echo e >&2; exit 3'], { stage0: true, restart: { policy: 'on-failure', max: 1 } });
  try {
    const s = await startMonitor(x.plan, { drive: driveWith(x) });
    assert.ok(s.pid > 0);
    const r = await waitExit(x.plan);
    await waitGone(s.monitorPid);
    assert.equal(r.exitStatus, 3);
    assert.equal(r.restartCount, 1, 'the restart ran through the starter');
    // Both runs logged (the streams' order between each other is the kernel's).
    assert.deepEqual(records(x.plan.files.log!).map((l) => `${l.stream} ${l.log}`).sort(), ['stderr e\n', 'stderr e\n', 'stdout driven\n', 'stdout driven\n']);
    assert.deepEqual(leftovers(x.b), [], 'the on-exit delete removed state dir and cgroups');
  } finally {
    x.cleanup();
  }
});

test("stage0: a run the engine fails is the start error (the runtime's own), the monitor goes and nothing is left; so with a stage 0 that cannot run, or a monitor gone before it forks one", { skip }, async () => {
  const x = box(['/no/such/program'], { stage0: true });
  try {
    await assert.rejects(startMonitor(x.plan, { drive: driveWith(x) }), (e: Error & { code?: string }) => e.code === 'EXEC_NOT_FOUND' && /no\/such\/program/.test(e.message));
    assert.equal(readExitRecord(x.plan), undefined);
    assert.deepEqual(leftovers(x.b), []);
    assert.deepEqual(
      spawnSync('pgrep', ['-f', x.plan.files.exit]).stdout.toString(),
      '',
      'no monitor left',
    );
  } finally {
    x.cleanup();
  }
  // A stage 0 that cannot run (its helper missing): the drive has its exit status from the monitor.
  const y = box(['true'], { stage0: true });
  try {
    const plan = { ...y.plan, ops: y.plan.ops.map((o) => (o.op === 'stage0' ? { ...o, helper: '/no/such/helper' } : o)) };
    await assert.rejects(startMonitor(plan, { drive: driveWith(y) }), /native helper stopped before the container started \(exit status 127\)/);
    assert.equal(readExitRecord(y.plan), undefined);
    assert.deepEqual(leftovers(y.b), []);
  } finally {
    y.cleanup();
  }
  // No monitor at all (not built): the drive, begun at once, undoes what it had set up.
  const w = box(['true'], { stage0: true });
  try {
    await assert.rejects(startMonitor(w.plan, { binary: '/no/such/brig-monitor', drive: driveWith(w) }), /container monitor is not built/);
    assert.deepEqual(leftovers(w.b), []);
  } finally {
    w.cleanup();
  }
  // The monitor gone before it forks stage 0 (a failed attach-then-start): the drive, begun
  // at once, undoes what it had set up (cgroups, state).
  const z = box(['sh', '-c', 'echo never'], { hold: true, stage0: true });
  try {
    await assert.rejects(startMonitor(z.plan, { onListening: () => Promise.reject(new Error('no attach')), drive: driveWith(z) }), /no attach/);
    assert.equal(readExitRecord(z.plan), undefined);
    assert.deepEqual(leftovers(z.b), []);
  } finally {
    z.cleanup();
  }
});
