import type { Writable } from 'node:stream';
import type { Engine } from '../../engine/engine.js';

/** What a brig verb gets: the Engine (local or, later, remote) and its output streams. */
export interface BrigContext {
  engine: () => Engine;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export type BrigCommand = (ctx: BrigContext, argv: string[]) => Promise<number>;
