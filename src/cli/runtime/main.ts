/**
 * brig-runtime: a runc-compatible OCI runtime command line.
 * Global flags come before the verb, as with runc.
 */
import { appendFileSync } from 'node:fs';
import { BrigError, isBrigError } from '../../errors/index.js';
import { Helper } from '../../native/helper.js';
import { takeInheritedStage0 } from '../../native/stage0-inherited.js';
import { deviceAttacher } from '../../native/devload.js';
import { locateNative } from '../../native/locate.js';
import { Runtime } from '../../runtime/runtime.js';
import { type Logger, type LogLevel, lineLogger } from '../../util/log.js';
import { parseArgs } from '../args.js';
import type { Command, Context } from './command.js';
import { create, start } from './commands/create.js';
import { del } from './commands/delete.js';
import { events } from './commands/events.js';
import { exec } from './commands/exec.js';
import { features } from './commands/features.js';
import { pause, resume } from './commands/pause.js';
import { ps } from './commands/ps.js';
import { update } from './commands/update.js';
import { kill } from './commands/kill.js';
import { list } from './commands/list.js';
import { plan } from './commands/plan.js';
import { run } from './commands/run.js';
import { spec } from './commands/spec.js';
import { state } from './commands/state.js';

const COMMANDS: Command[] = [run, create, start, exec, spec, state, del, kill, list, ps, update, pause, resume, events, plan, features];
const VERSION = '0.1.0';
const SPEC_VERSION = '1.2.0';

export const HELPER_PATH = locateNative('brig-helper', import.meta.url);

const GLOBAL_FLAGS = {
  root: { kind: 'string' as const, help: 'state directory' },
  log: { kind: 'string' as const, help: 'log file (default: stderr)' },
  'log-format': { kind: 'string' as const, help: 'text or json' },
  debug: { kind: 'bool' as const, help: 'log debug lines' },
  'systemd-cgroup': { kind: 'bool' as const, help: 'not supported yet' },
  help: { kind: 'bool' as const, short: 'h' },
  version: { kind: 'bool' as const, short: 'v' },
};

function defaultRoot(env: NodeJS.ProcessEnv): string {
  if (process.getuid?.() === 0) return '/run/brig-runtime';
  return `${env.XDG_RUNTIME_DIR ?? `/tmp/brig-runtime-${process.getuid?.()}`}/brig-runtime`;
}

function usage(): string {
  const verbs = COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n');
  return `usage: brig-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [ARGS]\n\ncommands:\n${verbs}\n`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  // First, before anything could be spawned: the stage 0 bin/brig-runtime's launcher forked.
  const helper = new Helper(HELPER_PATH, takeInheritedStage0(env));
  const startFailed = takeStartFailed(env);
  let log: Logger = lineLogger((l) => process.stderr.write(l), 'text', 'warn');
  let format: 'text' | 'json' = 'text';
  let logFile: string | undefined;
  try {
    const global = parseArgs(argv, GLOBAL_FLAGS, true);
    format = global.flags['log-format'] === 'json' ? 'json' : 'text';
    if (
      global.flags['log-format'] !== undefined &&
      !['text', 'json'].includes(global.flags['log-format'] as string)
    ) {
      throw new BrigError(
        'INVALID_ARGUMENT',
        `--log-format must be text or json, not "${global.flags['log-format']}"`,
      );
    }
    logFile = global.flags.log as string | undefined;
    const level: LogLevel = global.flags.debug ? 'debug' : 'warn';
    log = lineLogger(
      logFile ? (l) => appendFileSync(logFile!, l) : (l) => process.stderr.write(l),
      format,
      level,
    );
    if (global.flags.version) {
      process.stdout.write(`brig-runtime version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
      return 0;
    }
    const [verb, ...rest] = global.rest;
    if (global.flags.help || !verb || verb === 'help') {
      process.stdout.write(usage());
      return verb || global.flags.help ? 0 : 1;
    }
    if (global.flags['systemd-cgroup']) {
      throw new BrigError('UNSUPPORTED_FIELD', '--systemd-cgroup is not supported by this build yet', {
        field: '--systemd-cgroup',
      });
    }
    const cmd = COMMANDS.find((c) => c.name === verb);
    if (!cmd)
      throw new BrigError('INVALID_ARGUMENT', `unknown command "${verb}"`, {
        hint: 'see brig-runtime --help',
      });
    const parsed = parseArgs(rest, { ...cmd.flags, help: { kind: 'bool', short: 'h' } }, cmd.stopAtPositional ?? false);
    if (parsed.flags.help) {
      process.stdout.write(`usage: brig-runtime ${cmd.usage}\n`);
      return 0;
    }
    // The launcher guesses from argv; the verb decides.
    if (!cmd.launches) helper.release();
    const runtime = new Runtime({
      root: (global.flags.root as string | undefined) ?? defaultRoot(env),
      helper,
      attachDevices: deviceAttacher(locateNative('brig-devload', import.meta.url)),
      log,
    });
    const ctx: Context = {
      runtime,
      log,
      // Getters: process.stdout/stderr load the stream modules (~2 ms), and most verbs
      // (run, create, start, kill, delete) never print.
      get stdout() {
        return process.stdout;
      },
      get stderr() {
        return process.stderr;
      },
      cwd: process.cwd(),
      version: VERSION,
      ...(startFailed ? { startFailed } : {}),
    };
    return await cmd.run(ctx, parsed);
  } catch (e) {
    reportError(e, log, logFile !== undefined);
    return 1;
  }
}

/** The launcher's _BRIG_START_FAILED (hex), removed from the environment so no child sees it. */
function takeStartFailed(env: NodeJS.ProcessEnv): Buffer | undefined {
  const hex = env._BRIG_START_FAILED;
  delete env._BRIG_START_FAILED;
  return hex !== undefined && /^(?:[0-9a-f]{2})*$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/** One line with the message (naming field or path), a hint line if any; the log gets it too. */
function reportError(e: unknown, log: Logger, toLogFile: boolean): void {
  const err = isBrigError(e)
    ? e
    : new BrigError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
  const fields: Record<string, unknown> = { code: err.code };
  if (err.field) fields.field = err.field;
  if (err.path) fields.path = err.path;
  if (toLogFile) log.error(err.message, fields);
  process.stderr.write(`brig-runtime: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
  if (err.code === 'INTERNAL' && e instanceof Error && e.stack) log.debug(e.stack);
}

// Exit as soon as the verb is done rather than when the event loop drains (child-process
// and thread-pool handles cost ~3 ms a call). Nothing is lost: main awaited all the work, and
// on Linux writes to stdout/stderr are synchronous for files, pipes and terminals alike.
main(process.argv.slice(2), process.env).then((code) => process.exit(code));
