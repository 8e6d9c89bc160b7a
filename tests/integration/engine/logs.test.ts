/**
 * Container logs through the real monitor: json-file rotation with compression (files and
 * sizes on disk, `gzip -t`, docker's lastTime header, every kept line back in order), the
 * local driver's records, lines longer than 16 KiB cut as docker cuts them, attrs in every
 * record, one-file rotation, and `follow` reading on while the container writes and the
 * monitor rotates and compresses under it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { jsonFile } from '../../../src/engine/logs/json-file.js';
import { timeNs } from '../../../src/engine/logs/line.js';
import { local } from '../../../src/engine/logs/local.js';
import { readLogs } from '../../../src/engine/logs/reader.js';
import { readExitRecord, startMonitor } from '../../../src/engine/monitor/monitor.js';
import { box, waitExit } from '../../support/monitor-box.js';
import { repoRoot, requires } from '../../support/requires.js';
import { readTextSync } from '../../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox') || (existsSync(path.join(repoRoot, 'native/build/brig-monitor')) ? false : 'brig-monitor not built');
const hasGzip = spawnSync('gzip', ['--version']).status === 0;

/** Lines "line N" with some padding: a shell loop, fast. */
const lines = (n: number, pad = 60) => `i=0; while [ $i -lt ${n} ]; do echo "line $i ${'.'.repeat(pad)}"; i=$((i+1)); done`;
const nums = (ls: { log: string }[]) => ls.map((l) => Number(/^line (\d+)/.exec(l.log)?.[1] ?? -1));

function assertConsecutive(ns: number[], last: number): void {
  assert.equal(ns.at(-1), last);
  ns.forEach((n, i) => i > 0 && assert.equal(n, ns[i - 1]! + 1, `line ${ns[i - 1]} then ${n}`));
}

async function readAll(source: Parameters<typeof readLogs>[0], opts: Parameters<typeof readLogs>[1] = {}) {
  const out = [];
  for await (const l of readLogs(source, opts)) out.push(l);
  return out;
}

test('json-file with compress: rotated files gzipped as docker names them, gzip -t passes, lastTime in the header, every kept line in order', { skip }, async () => {
  const x = box(['sh', '-c', lines(2000)], { log: { driver: 'json-file', maxSize: 20_000, maxFiles: 4, compress: true } });
  try {
    await startMonitor(x.plan);
    await waitExit(x.plan);
    const file = x.plan.files.log!;
    const dir = path.dirname(file);
    let kept = readTextSync(file).trim().split('\n').length;
    // The exit record comes after the last compression: the files are final.
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('json.log')).sort(), ['json.log', 'json.log.1.gz', 'json.log.2.gz', 'json.log.3.gz']);
    for (const f of ['json.log.1.gz', 'json.log.2.gz', 'json.log.3.gz']) {
      const gz = readFileSync(path.join(dir, f));
      if (hasGzip) assert.equal(spawnSync('gzip', ['-t', path.join(dir, f)]).status, 0, `gzip -t ${f}`);
      // Go's gzip header: FEXTRA, no mtime, OS 255; the extra field is {"lastTime":...}.
      assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255]);
      const extra = JSON.parse(gz.subarray(12, 12 + gz.readUInt16LE(10)).toString()) as { lastTime: string };
      const plain = gunzipSync(gz).toString().trim().split('\n');
      kept += plain.length;
      const lastRecord = JSON.parse(plain.at(-1)!) as { time: string };
      assert.equal(extra.lastTime, lastRecord.time, `${f}: lastTime is its last record's time`);
      // Rotation at max-size before a write: at least 20000 bytes, over by less than one record.
      assert.ok(plain.join('\n').length + 1 >= 20_000 && plain.join('\n').length + 1 < 20_000 + 200, `${f} holds ${plain.join('\n').length + 1} bytes`);
    }
    assert.ok(statSync(file).size < 20_000 + 200);
    const got = await readAll({ format: jsonFile, path: file, maxFiles: 4 });
    assertConsecutive(nums(got), 1999);
    assert.equal(got.length, kept, 'every line the files keep');
    const tail = await readAll({ format: jsonFile, path: file, maxFiles: 4 }, { tail: 300 });
    assert.deepEqual(nums(tail), nums(got).slice(-300));
  } finally {
    x.cleanup();
  }
});

test("local driver: docker's framed protobuf records in local-logs/container.log, rotated and compressed, read back", { skip }, async () => {
  // stderr after stdout has drained (sleep): a record written early would rotate away.
  const x = box(['sh', '-c', `${lines(600)}; sleep 0.3; echo oops >&2`], { log: { driver: 'local', maxSize: 10_000, maxFiles: 3, compress: true, attrs: { tag: 'web' } } });
  try {
    await startMonitor(x.plan);
    await waitExit(x.plan);
    const file = x.plan.files.log!;
    assert.equal(path.basename(path.dirname(file)), 'local-logs');
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(path.dirname(file)).sort(), ['container.log', 'container.log.1.gz', 'container.log.2.gz']);
    if (hasGzip) for (const f of ['container.log.1.gz', 'container.log.2.gz']) assert.equal(spawnSync('gzip', ['-t', `${path.dirname(file)}/${f}`]).status, 0);
    const raw = readFileSync(file);
    const { records, used } = local.split(raw);
    assert.equal(used, raw.length, 'whole records, lengths before and after agree');
    const got = await readAll({ format: local, path: file, maxFiles: 3 });
    const err = got.filter((l) => l.stream === 'stderr');
    assert.deepEqual(err, [{ stream: 'stderr', log: 'oops\n', time: err[0]!.time, attrs: { tag: 'web' } }]);
    assertConsecutive(nums(got.filter((l) => l.stream === 'stdout')), 599);
    assert.equal(local.decode(records[0]!)!.line.attrs?.tag, 'web');
  } finally {
    x.cleanup();
  }
});

test('a line longer than 16 KiB: pieces of 16 KiB sharing the first one\'s time; the last one ends the line; an unfinished last line is a piece', { skip }, async () => {
  const script = 'head -c 40000 /dev/zero | tr "\\0" a; echo; printf "no newline"';
  for (const driver of ['json-file', 'local'] as const) {
    const x = box(['sh', '-c', script], { log: { driver, maxSize: 0, maxFiles: 1 } });
    try {
      await startMonitor(x.plan);
      await waitExit(x.plan);
      const got = await readAll({ format: driver === 'local' ? local : jsonFile, path: x.plan.files.log!, maxFiles: 1 });
      assert.deepEqual(
        got.map((l) => l.log.length),
        [16384, 16384, 40000 - 2 * 16384 + 1, 'no newline'.length],
        driver,
      );
      assert.ok(got[2]!.log.endsWith('a\n'));
      assert.equal(new Set(got.slice(0, 3).map((l) => l.time)).size, 1, `${driver}: one time for the pieces of one line`);
      if (driver === 'local') {
        // docker's partial metadata: one id, ordinals 1.., last on the piece that ends the line.
        // PartialLogEntryMetadata at each record's end, in hex: 2a len [08 01] 12 40 id 18 ordinal.
        const recs = local.split(readFileSync(x.plan.files.log!)).records.map((r) => r.toString('hex'));
        const md = recs.map((r) => /2a..(0801)?1240((?:3[0-9]|6[1-6]){64})18(..)$/.exec(r));
        assert.deepEqual(md.map((m) => [m?.[1] ?? '', m?.[3]]), [['', '01'], ['', '02'], ['0801', '03'], ['', '01']], 'ordinals 1..3, last on the third; the unfinished line a first piece');
        assert.equal(new Set(md.slice(0, 3).map((m) => m![2])).size, 1, 'one id for the pieces of one line');
        assert.notEqual(md[3]![2], md[0]![2]);
      }
    } finally {
      x.cleanup();
    }
  }
});

test('one file: at max-size the current file is unlinked and a new one made (a reader holding it finishes it)', { skip }, async () => {
  const x = box(['sh', '-c', lines(300)], { log: { driver: 'json-file', maxSize: 5000, maxFiles: 1 } });
  try {
    await startMonitor(x.plan);
    await waitExit(x.plan);
    assert.deepEqual(readdirSync(path.dirname(x.plan.files.log!)).filter((f) => f.startsWith('json.log')), ['json.log']);
    const got = await readAll({ format: jsonFile, path: x.plan.files.log!, maxFiles: 1 });
    assertConsecutive(nums(got), 299);
  } finally {
    x.cleanup();
  }
});

for (const compress of [false, true]) {
  test(`follow reads every kept line while the container writes and the monitor rotates${compress ? ' and compresses' : ''}`, { skip }, async () => {
    // A file every ~55 ms, twenty kept: a reader starved for more than a second would
    // find lines rotated away for good (as under docker); short of that it misses none.
    const x = box(['sh', '-c', `i=0; while [ $i -lt 800 ]; do echo "line $i ${'.'.repeat(100)}"; i=$((i+1)); [ $((i % 20)) = 0 ] && sleep 0.05; done`], {
      log: { driver: 'json-file', maxSize: 3000, maxFiles: 20, compress },
    });
    try {
      await startMonitor(x.plan);
      const got = await readAll({ format: jsonFile, path: x.plan.files.log!, maxFiles: 20 }, { follow: true, pollMs: 20, running: async () => !readExitRecord(x.plan) });
      assertConsecutive(nums(got), 799);
      // More than the files keep at the end: the reader went on across rotations.
      const kept = (await readAll({ format: jsonFile, path: x.plan.files.log!, maxFiles: 20 })).length;
      assert.ok(got.length > kept + 20, `${got.length} lines followed, ${kept} kept`);
      assert.ok(timeNs(got[0]!.time)! <= timeNs(got.at(-1)!.time)!);
    } finally {
      x.cleanup();
    }
  });
}
