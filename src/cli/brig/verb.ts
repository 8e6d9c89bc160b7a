/**
 * A brig verb: one flag table (which also makes its --help and its shell completion) and
 * the work, which gets the parsed command. Verbs are gathered in commands/index.ts; main.ts
 * looks a verb up, parses argv with its table and runs it.
 */
import { BrigError } from '../../errors/index.js';
import { type CommandSpec, helpText, parseFlags, type ParsedCommand } from '../flags.js';
import type { BrigContext } from './context.js';

export interface Verb {
  spec: CommandSpec;
  run(ctx: BrigContext, p: ParsedCommand): Promise<number>;
}

/** A group of verbs under one word (`brig container ...`, `brig image ...`). */
export interface VerbGroup {
  name: string;
  summary: string;
  verbs: Record<string, Verb>;
}

export function isGroup(v: Verb | VerbGroup): v is VerbGroup {
  return 'verbs' in v;
}

/** Parses argv with the verb's table; `--help` prints its usage instead of running it. */
export async function runVerb(v: Verb, ctx: BrigContext, argv: string[]): Promise<number> {
  const p = parseFlags(argv, v.spec);
  if (p.help) {
    ctx.stdout.write(helpText(v.spec));
    return 0;
  }
  return v.run(ctx, p);
}

function argsError(spec: CommandSpec, what: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', `"brig ${spec.name}" requires ${what}.`, { hint: `See 'brig ${spec.name} --help'.` });
}

/** docker's "requires at least N argument(s)". */
export function needArgs(p: ParsedCommand, spec: CommandSpec, min: number): void {
  if (p.args.length < min) throw argsError(spec, `at least ${min} argument${min === 1 ? '' : 's'}`);
}

/** docker's "requires exactly N argument(s)". */
export function exactArgs(p: ParsedCommand, spec: CommandSpec, n: number): void {
  if (p.args.length !== n) throw argsError(spec, `exactly ${n} argument${n === 1 ? '' : 's'}`);
}

/** docker's "accepts no arguments". */
export function noArgs(p: ParsedCommand, spec: CommandSpec): void {
  if (p.args.length !== 0) throw new BrigError('INVALID_ARGUMENT', `"brig ${spec.name}" accepts no arguments.`, { hint: `See 'brig ${spec.name} --help'.` });
}

/**
 * Runs `fn` for every object named, as docker's CLI does for stop, rm, kill, ...: each
 * success prints its name (or what `fn` returns), each failure its error, in the order
 * named, and the status is 1 if any failed. With `parallel` > 1 that many run at once (docker's
 * parallelOperation for stop, kill, rm, pause and unpause runs up to 50).
 */
export async function forEachRef(ctx: BrigContext, refs: string[], fn: (ref: string) => Promise<string | void>, parallel = 1): Promise<number> {
  const results: Promise<{ ok: true; out: string } | { ok: false; error: Error }>[] = [];
  let running: Promise<unknown>[] = [];
  for (const ref of refs) {
    if (running.length >= parallel) await Promise.race(running);
    const r = fn(ref).then(
      (out) => ({ ok: true as const, out: out ?? ref }),
      (error: Error) => ({ ok: false as const, error }),
    );
    const tracked: Promise<unknown> = r.finally(() => {
      running = running.filter((x) => x !== tracked);
    });
    running.push(tracked);
    results.push(r);
  }
  let failed = 0;
  for (const r of results) {
    const x = await r;
    if (x.ok) ctx.stdout.write(`${x.out}\n`);
    else {
      failed++;
      ctx.stderr.write(`Error response from daemon: ${x.error.message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** How many of stop, kill, rm, pause, unpause brig runs at once (docker's CLI: 50). */
export const PARALLEL_OPS = 16;

/** A verb applied to each container named: at least one, each reported; `parallel` at once. */
export function perRef(spec: CommandSpec, act: (ctx: BrigContext, p: ParsedCommand, ref: string) => Promise<string | void>, parallel = 1): Verb {
  return {
    spec,
    run: (ctx, p) => {
      needArgs(p, spec, 1);
      return forEachRef(ctx, p.args, (ref) => act(ctx, p, ref), parallel);
    },
  };
}
