/**
 * The exec FIFO between `create` and `start` (runc's exec.fifo, with one addition).
 *
 * init, left waiting by create, opens the FIFO for writing; that open returns once `start`
 * opens it for reading. init writes one byte ("released") and keeps the writer open,
 * close-on-exec, while it runs the startContainer hooks and the last ops. So the reader sees:
 *   - EOF after the byte: the user program was executed (or init died without a word);
 *   - an error record after the byte: an op after the release failed (a startContainer hook,
 *     no_new_privs, seccomp, exec), and init exited.
 * runc closes its writer at once, so its `start` returns (and runs poststart) before the
 * program is executed; the spec puts poststart after it, and a failing startContainer
 * hook must fail `start`.
 */
import { closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';
import { BrigError, hasErrno } from '../errors/index.js';
import { decodeErrorRecord, ERROR_RECORD_SIZE, type ErrorRecord } from '../native/errors.js';

export type ReleaseResult = { executed: true } | { executed: false; error?: ErrorRecord };

export interface ReleaseOptions {
  /** Whether init is still alive: a dead init never writes the byte. */
  alive: () => Promise<boolean>;
  /**
   * init took the byte and will go on whatever happens to this process: record it now
   * (a `start` killed while startContainer hooks run must not leave "created" behind).
   */
  onReleased: () => Promise<void> | void;
  /** How long init may take to write the byte once the FIFO is open. */
  timeoutMs?: number;
}

/**
 * Opens the FIFO, takes init's byte, then waits for the exec (EOF) or an error record.
 * Throws only when init cannot be released; what happened after the release is returned.
 */
export async function releaseInit(fifo: string, id: string, opts: ReleaseOptions): Promise<ReleaseResult> {
  let fd: number;
  try {
    fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" was already started`);
    throw e;
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // One byte, then at most one error record.
  const buf = Buffer.alloc(1 + ERROR_RECORD_SIZE);
  let got = 0;
  let released = false;
  try {
    // Node has no blocking read on a non-blocking fd: poll, backing off from an immediate
    // retry (init writes within a millisecond of the open and usually execs within one more).
    for (let waited = 0, step = 0; ; waited += step, step = Math.min(step * 2 || 1, 5)) {
      // Asked before the read: init may write its byte, exec and exit (`true`) between a read
      // that finds nothing and a look at /proc, and then the byte is in the FIFO all the
      // same. Dead before the read means any byte it wrote is seen by this read.
      const wasAlive = got > 0 || (await opts.alive());
      let n: number;
      try {
        n = readSync(fd, buf, got, buf.length - got, null);
      } catch (e) {
        if (!hasErrno(e, 'EAGAIN')) throw e;
        n = -1;
      }
      if (n > 0) {
        got += n;
        if (!released) {
          released = true;
          await opts.onReleased();
        }
        if (got === buf.length) break;
        continue;
      }
      // EOF: before the byte, there is no writer yet, or init died before writing it.
      if (n === 0 && got > 0) break;
      if (got === 0) {
        if (!wasAlive) {
          throw new BrigError('CONTAINER_NOT_RUNNING', `container "${id}" init exited before start`);
        }
        if (waited > timeoutMs) {
          throw new BrigError('HELPER_PROTOCOL', `container "${id}" init did not answer start within ${timeoutMs / 1000} s`);
        }
      }
      // After the byte there is no time limit: startContainer hooks carry their own timeouts.
      await new Promise((r) => (step === 0 ? setImmediate(r) : setTimeout(r, step)));
    }
  } finally {
    closeSync(fd);
  }
  if (got === 1) return { executed: true };
  if (got === buf.length) return { executed: false, error: decodeErrorRecord(buf.subarray(1)) };
  return { executed: false };
}
