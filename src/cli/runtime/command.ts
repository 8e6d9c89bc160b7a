import type { Writable } from 'node:stream';
import type { Runtime } from '../../runtime/runtime.js';
import type { Logger } from '../../util/log.js';
import type { FlagSpecs, Parsed } from '../args.js';

export interface Context {
  runtime: Runtime;
  log: Logger;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
  version: string;
  /**
   * What the launcher read from the exec FIFO after it released init itself (its fast
   * `start`, runtime/fast-plan.ts) instead of EOF: `start` words the error from it.
   */
  startFailed?: Buffer;
}

/** A verb: parse flags, call the runtime, print. No logic of its own. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  flags: FlagSpecs;
  /** Flags end at the first positional (the rest belongs to another program, as in `ps ID -ef`). */
  stopAtPositional?: boolean;
  /** Starts a container process through the helper: may use the launcher's stage 0. */
  launches?: true;
  run(ctx: Context, args: Parsed): Promise<number>;
}
