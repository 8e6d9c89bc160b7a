/**
 * A Dockerfile's stages and the graph between them. Each FROM starts a stage; ARGs before
 * the first FROM are the global (meta) args, visible only to FROM lines and to a stage that
 * declares them again (`ARG NAME` without a value). A stage depends on the stage it is FROM
 * and on every stage its `COPY --from` / `RUN --mount=from=` name; the target needs only
 * what it reaches, so other stages are skipped, and independent stages build concurrently.
 */
import { Expander } from './expand.js';
import { atLine, type Dockerfile, flagMap, type Instruction, parseError, rawWords } from './parser.js';

export interface Stage {
  index: number;
  /** Lower case, from `AS name`. */
  name: string | undefined;
  /** The FROM word expanded with the global args: an image reference, a stage, or `scratch`. */
  base: string;
  platform: string | undefined;
  from: Instruction;
  instructions: Instruction[];
}

export interface StagePlan {
  /** The global ARGs with their values (build args applied), in order. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

type PlatformArg = { os: string; architecture: string; variant?: string };

/**
 * Args every build has without an ARG line (BuildKit's automatic platform args): BUILD* are
 * the platform the build runs on (this host), TARGET* the one asked for (`--platform`).
 */
export function automaticArgs(target: PlatformArg, build: PlatformArg): Map<string, string> {
  const m = new Map<string, string>();
  for (const [pre, p] of [['BUILD', build], ['TARGET', target]] as const) {
    m.set(`${pre}PLATFORM`, `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`);
    m.set(`${pre}OS`, p.os);
    m.set(`${pre}ARCH`, p.architecture);
    m.set(`${pre}VARIANT`, p.variant ?? '');
  }
  return m;
}

/** docker's predefined proxy args: usable without ARG, kept out of history and cache keys. */
export const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

/** `ARG a b=1`: names with their default values (raw, expanded when the ARG runs). */
export function argDecls(ins: Instruction, escape: string): [string, string | undefined][] {
  const words = rawWords(ins.rest, escape);
  if (words.length === 0) throw parseError(ins.line, 'ARG requires at least one argument');
  return words.map((w) => {
    const eq = w.indexOf('=');
    const name = eq < 0 ? w : w.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw parseError(ins.line, `ARG names can not be blank or hold "${name}"`);
    return [name, eq < 0 ? undefined : w.slice(eq + 1)];
  });
}

export function planStages(df: Dockerfile, buildArgs: ReadonlyMap<string, string>, auto: ReadonlyMap<string, string>): StagePlan {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  let current: Stage | undefined;
  for (const ins of df.instructions) atLine(ins.line, () => {
    if (ins.keyword === 'FROM') {
      const flags = flagMap(ins, ['platform']);
      const lookup = (n: string) => (globalArgs.has(n) ? globalArgs.get(n) : auto.get(n));
      const x = new Expander(lookup, df.escape);
      const words = x.words(ins.rest);
      let name: string | undefined;
      if (words.length === 3 && words[1]!.toLowerCase() === 'as') {
        name = words[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) throw parseError(ins.line, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
        if (stages.some((s) => s.name === name)) throw parseError(ins.line, `duplicate stage name "${name}"`);
      } else if (words.length !== 1) throw parseError(ins.line, 'FROM requires either one or three arguments');
      if (words[0] === '') throw parseError(ins.line, `base name (${ins.rest}) should not be blank`);
      const platform = flags.get('platform')?.[0];
      current = { index: stages.length, name, base: words[0]!, platform: platform === undefined ? undefined : x.word(platform), from: ins, instructions: [] };
      stages.push(current);
    } else if (current === undefined) {
      if (ins.keyword !== 'ARG') throw parseError(ins.line, `no build stage in current context (${ins.keyword} before the first FROM)`);
      for (const [name, def] of argDecls(ins, df.escape)) {
        const x = new Expander((n) => (globalArgs.has(n) ? globalArgs.get(n) : auto.get(n)), df.escape);
        globalArgs.set(name, buildArgs.get(name) ?? (def === undefined ? undefined : x.word(def)));
      }
    } else current.instructions.push(ins);
  });
  if (stages.length === 0) throw parseError(df.instructions[0]!.line, 'no build stage in current context');
  return { globalArgs, stages };
}

/** The stage a name or index refers to, among those before `before`; undefined for an image. */
export function stageRef(stages: readonly Stage[], ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const named = stages.find((s) => s.index < before && s.name === lower);
  if (named) return named;
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    if (i < before) return stages[i];
  }
  return undefined;
}

/** The target's index: the named stage, else the last one. */
export function targetStage(plan: StagePlan, target: string | undefined): Stage {
  if (target === undefined || target === '') return plan.stages[plan.stages.length - 1]!;
  const s = plan.stages.find((x) => x.name === target.toLowerCase());
  if (!s) throw parseError(plan.stages[0]!.from.line, `target stage "${target}" could not be found`);
  return s;
}
