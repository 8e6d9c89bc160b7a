/**
 * A log driver's on-disk record format, as the multi-file reader (reader.ts) needs it.
 *
 * The monitor (native/monitor) writes the records; brig only reads them. A file is a run of
 * records, each whole once its last byte is on disk: the reader may meet a record the
 * monitor is still writing at the end of the current file, and must leave it for later.
 * So a format can say where whole records end (`split`), what one says (`decode`), and
 * where the last n of a file begin without reading the whole file (`tail`), which is what
 * makes `logs --tail N` cheap on large files: only the end of the newest files is read.
 */
import type { FileHandle } from 'node:fs/promises';
import type { LogLine } from './line.js';

/** A decoded record and its time in nanoseconds (for --since/--until and gzip lastTime). */
export interface LogEntry {
  line: LogLine;
  ns: bigint;
}

export interface LogFormat {
  readonly driver: 'json-file' | 'local';
  /**
   * The whole records at the start of `buf` (their payloads), and how many bytes they take;
   * the rest is an unfinished record. `corrupt` when what follows cannot be a record at all
   * (the reader then gives up on the file, as docker does).
   */
  split(buf: Buffer): { records: Buffer[]; used: number; corrupt?: boolean };
  /** A record's payload; undefined for one that does not decode (it is skipped). */
  decode(record: Buffer): LogEntry | undefined;
  /**
   * Where the last `n` whole records of [0, size) begin, how many there are (fewer when the
   * file holds fewer) and where they end (before an unfinished record at the end).
   */
  tail(file: FileHandle, size: number, n: number): Promise<{ start: number; end: number; found: number }>;
}

/** Reads backwards from `end` in blocks; `visit` sees each block and its offset until it returns true. */
export async function scanBackwards(file: FileHandle, end: number, visit: (block: Buffer, at: number) => boolean): Promise<void> {
  const block = Buffer.alloc(64 * 1024);
  for (let pos = end; pos > 0; ) {
    const at = Math.max(0, pos - block.length);
    const { bytesRead } = await file.read(block, 0, pos - at, at);
    if (visit(block.subarray(0, bytesRead), at)) return;
    pos = at;
  }
}
