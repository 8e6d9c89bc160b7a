import { promisify } from 'node:util';

/**
 * Node builtins loaded on first use. brig-runtime is a short-lived process and most of its
 * verbs (state, start, kill, delete, list) never spawn anything: loading child_process
 * (which pulls in net and stream) costs ~2.5 ms of every start-up, so those who need it
 * load it where they use it.
 */
export function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
}

export function fsPromises(): typeof import('node:fs/promises') {
  return process.getBuiltinModule('node:fs/promises') as typeof import('node:fs/promises');
}

export function timersPromises(): typeof import('node:timers/promises') {
  return process.getBuiltinModule('node:timers/promises') as typeof import('node:timers/promises');
}

type ExecFileAsync = (typeof import('node:child_process').execFile)['__promisify__'];
let execFileP: ExecFileAsync | undefined;
/** promisify(execFile), made on first use (a module-level one loads child_process at start). */
export const execFileAsync: ExecFileAsync = ((...args: Parameters<ExecFileAsync>) =>
  (execFileP ??= promisify(childProcess().execFile))(...args)) as ExecFileAsync;
