import type { Writable } from 'node:stream';
import type { CredentialStore, Engine } from '../../engine/engine.js';

/**
 * What a brig verb gets: the Engine (local or, later, remote), its streams, and the
 * client's own state: the registry credentials `login` keeps (docker's config.json).
 */
export interface BrigContext {
  engine: () => Engine;
  credentials: () => CredentialStore;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export type BrigCommand = (ctx: BrigContext, argv: string[]) => Promise<number>;
