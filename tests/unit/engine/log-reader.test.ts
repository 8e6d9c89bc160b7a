/**
 * The multi-file log reader on files made here the way the monitor makes them (records,
 * renames, gzip with docker's lastTime header): order across rotated and compressed files,
 * --tail reading only what it needs, --since/--until as docker's forwarder, follow across
 * rotations — also when it falls behind by several.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { crc32, deflateRawSync } from 'node:zlib';
import type { LogFormat } from '../../../src/engine/logs/format.js';
import { jsonFile } from '../../../src/engine/logs/json-file.js';
import { formatNs, type LogLine } from '../../../src/engine/logs/line.js';
import { encodeLocalRecord, local } from '../../../src/engine/logs/local.js';
import { readLogs, type ReadLogOptions } from '../../../src/engine/logs/reader.js';
import { parseTime } from '../../../src/util/time-arg.js';

const T0 = 1_800_000_000_000_000_000n;
const at = (i: number) => T0 + BigInt(i) * 1_000_000_000n;

/** A gzip file with docker's header: Extra {"lastTime":...}, OS 255, no mtime. */
function gzipDocker(data: Buffer, lastTime: string, body?: Buffer): Buffer {
  const extra = Buffer.from(JSON.stringify({ lastTime }));
  const head = Buffer.from([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255, extra.length & 0xff, extra.length >> 8]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([head, extra, body ?? deflateRawSync(data), trailer]);
}

/** Writes records and rotates as the monitor does. */
class FakeMonitor {
  readonly path: string;
  last = 0n;
  constructor(
    dir: string,
    readonly format: LogFormat,
    readonly maxFiles: number,
    readonly compress: boolean,
  ) {
    this.path = path.join(dir, format.driver === 'local' ? 'container.log' : 'json.log');
    writeFileSync(this.path, '');
  }

  record(i: number, text = `line ${i}`, ns = at(i)): Buffer {
    this.last = ns;
    return this.format.driver === 'local'
      ? encodeLocalRecord({ source: 'stdout', timeNano: ns, line: Buffer.from(text) })
      : Buffer.from(`${JSON.stringify({ log: `${text}\n`, stream: 'stdout', time: formatNs(ns) })}\n`);
  }

  write(...is: number[]): void {
    for (const i of is) appendFileSync(this.path, this.record(i));
  }

  rotate(opts: { compressNow?: boolean } = {}): void {
    const ext = this.compress ? '.gz' : '';
    for (let i = this.maxFiles - 1; i > 1; i--) {
      try {
        renameSync(`${this.path}.${i - 1}${ext}`, `${this.path}.${i}${ext}`);
      } catch {}
    }
    renameSync(this.path, `${this.path}.1`);
    writeFileSync(this.path, '');
    if (this.compress && opts.compressNow !== false) this.compressOne();
  }

  compressOne(): void {
    const data = readFileSync(`${this.path}.1`);
    writeFileSync(`${this.path}.1.gz`, gzipDocker(data, formatNs(this.last)));
    unlinkSync(`${this.path}.1`);
  }
}

async function collect(gen: AsyncIterable<LogLine>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of gen) out.push(l.log.trimEnd());
  return out;
}

/**
 * A follower whose idle moments (it asks whether the container runs only when it has read
 * everything there is) are the test's clock: `idle()` waits for the next one.
 */
function follower(src: Parameters<typeof readLogs>[0], opts: ReadLogOptions = {}) {
  let running = true;
  let waiting: (() => void) | undefined;
  const got = collect(
    readLogs(src, {
      ...opts,
      follow: true,
      pollMs: 5,
      running: async () => {
        waiting?.();
        waiting = undefined;
        return running;
      },
    }),
  );
  return {
    idle: () => new Promise<void>((r) => (waiting = r)),
    async stop(): Promise<string[]> {
      running = false;
      return got;
    },
  };
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => `line ${a + i}`);

function withDir(fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'brig-logread-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

for (const format of [jsonFile, local]) {
  test(
    `${format.driver}: rotated and compressed files in order; --tail from the newest file back`,
    withDir(async (dir) => {
      const m = new FakeMonitor(dir, format, 4, true);
      m.write(0, 1, 2);
      m.rotate();
      m.write(3, 4, 5);
      m.rotate({ compressNow: false }); // .1 still plain (compression under way), .2.gz
      m.write(6, 7);
      const src = { format, path: m.path, maxFiles: 4 };
      assert.deepEqual(await collect(readLogs(src)), range(0, 8));
      assert.deepEqual(await collect(readLogs(src, { tail: 1 })), range(7, 8));
      assert.deepEqual(await collect(readLogs(src, { tail: 4 })), range(4, 8));
      assert.deepEqual(await collect(readLogs(src, { tail: 7 })), range(1, 8));
      assert.deepEqual(await collect(readLogs(src, { tail: 100 })), range(0, 8));
      assert.deepEqual(await collect(readLogs(src, { tail: 0 })), []);
      m.compressOne();
      assert.deepEqual(await collect(readLogs(src, { tail: 5 })), range(3, 8));
    }),
  );
}

test(
  '--tail reads only the files it needs; --since skips a gzipped file by its header without inflating it',
  withDir(async (dir) => {
    const m = new FakeMonitor(dir, jsonFile, 3, true);
    m.write(0, 1);
    m.rotate();
    m.write(2, 3);
    m.rotate();
    m.write(4, 5, 6);
    // The oldest file's compressed body is damaged: whoever inflates it fails.
    const old = readFileSync(`${m.path}.2.gz`);
    const extraLen = old.readUInt16LE(10);
    writeFileSync(`${m.path}.2.gz`, Buffer.concat([old.subarray(0, 12 + extraLen), Buffer.from('not deflate at all'), old.subarray(-8)]));
    const src = { format: jsonFile, path: m.path, maxFiles: 3 };
    await assert.rejects(collect(readLogs(src)), /log file .*json\.log\.2\.gz does not inflate/);
    assert.deepEqual(await collect(readLogs(src, { tail: 3 })), range(4, 7), 'the current file holds enough');
    assert.deepEqual(await collect(readLogs(src, { tail: 5 })), range(2, 7), 'and then the newest rotated one');
    assert.deepEqual(await collect(readLogs(src, { since: Number(at(3) / 1_000_000n) / 1000 })), range(3, 7), "the damaged file's lastTime is before --since");
  }),
);

test(
  "--since and --until as docker's forwarder: since until the first record at or after it, until ends the read",
  withDir(async (dir) => {
    const m = new FakeMonitor(dir, jsonFile, 1, false);
    m.write(0, 1, 2, 3);
    appendFileSync(m.path, m.record(9, 'out of order', at(1))); // times need not rise
    m.write(4, 5);
    const src = { format: jsonFile, path: m.path, maxFiles: 1 };
    const secs = (i: number) => Number(at(i) / 1_000_000n) / 1000;
    assert.deepEqual(await collect(readLogs(src, { since: secs(2) })), ['line 2', 'line 3', 'out of order', 'line 4', 'line 5']);
    assert.deepEqual(await collect(readLogs(src, { until: secs(2) })), range(0, 3));
    assert.deepEqual(await collect(readLogs(src, { since: secs(1), until: secs(3) })), [...range(1, 4), 'out of order'], 'the first record past --until ends it');
    assert.deepEqual(await collect(readLogs(src, { tail: 2, since: secs(5) })), ['line 5'], 'tail first, then since');
    // A time copied from `logs -t` selects its own record, to the nanosecond.
    const odd = T0 + 123_456_789n;
    writeFileSync(m.path, Buffer.concat([m.record(0, 'before', odd - 1000n), m.record(1, 'exact', odd)]));
    const t = formatNs(odd);
    assert.deepEqual(await collect(readLogs(src, { since: parseTime(t, '--since') })), ['exact']);
  }),
);

test(
  'a record the monitor is still writing is left for later; follow returns it once whole',
  withDir(async (dir) => {
    for (const format of [jsonFile, local]) {
      const m = new FakeMonitor(dir, format, 1, false);
      m.write(0, 1);
      const rec = m.record(2);
      appendFileSync(m.path, rec.subarray(0, 10));
      const src = { format, path: m.path, maxFiles: 1 };
      assert.deepEqual(await collect(readLogs(src)), range(0, 2));
      assert.deepEqual(await collect(readLogs(src, { tail: 1 })), range(1, 2));
      const f = follower(src, { tail: 1 });
      await f.idle();
      appendFileSync(m.path, rec.subarray(10));
      await f.idle();
      assert.deepEqual(await f.stop(), range(1, 3), format.driver);
      rmSync(m.path);
    }
  }),
);

for (const compress of [false, true]) {
  test(
    `follow survives rotations${compress ? ' with compression' : ''}, also when it falls behind by several`,
    withDir(async (dir) => {
      const m = new FakeMonitor(dir, jsonFile, 5, compress);
      m.write(0, 1);
      const src = { format: jsonFile, path: m.path, maxFiles: 5 };
      const f = follower(src);
      await f.idle();
      let i = 2;
      for (let round = 0; round < 4; round++) {
        m.write(i++, i++);
        m.rotate();
        await f.idle();
      }
      // Three rotations before it looks again.
      for (let round = 0; round < 3; round++) {
        m.write(i++);
        m.rotate();
      }
      m.write(i++);
      await f.idle();
      assert.deepEqual(await f.stop(), range(0, i));
    }),
  );
}

test(
  'follow that fell behind by more rotations than files are kept reads on from the oldest kept file',
  withDir(async (dir) => {
    const m = new FakeMonitor(dir, jsonFile, 3, true);
    m.write(0, 1);
    const f = follower({ format: jsonFile, path: m.path, maxFiles: 3 });
    await f.idle();
    for (let i = 2; i < 10; i += 2) {
      m.write(i, i + 1);
      m.rotate();
    }
    m.write(10);
    await f.idle();
    // 2-3 are the rest of the file it holds; 4-5 went with a file rotated away; 6-9 are kept.
    assert.deepEqual(await f.stop(), [...range(0, 4), ...range(6, 11)]);
  }),
);

test(
  'follow with one file: the old file is unlinked at rotation; what was written to it before is read',
  withDir(async (dir) => {
    const m = new FakeMonitor(dir, local, 1, false);
    m.write(0);
    const f = follower({ format: local, path: m.path, maxFiles: 1 }, { tail: 0 });
    await f.idle();
    m.write(1, 2);
    unlinkSync(m.path);
    writeFileSync(m.path, '');
    m.write(3);
    await f.idle();
    assert.deepEqual(await f.stop(), range(1, 4));
  }),
);
