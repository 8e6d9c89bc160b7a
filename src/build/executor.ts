/**
 * The executor: a parsed Dockerfile into an image.
 *
 * Stages are built as promises keyed by index, so a stage waits only for the stages it
 * names (FROM, COPY --from, RUN --mount=from=) and independent ones run at the same time;
 * stages the target does not reach are never started. Inside a stage the instructions run
 * in order on a state: the image config so far, its layers and the snapshot chain they
 * make.
 *
 * A step that changes files (RUN, COPY, ADD, WORKDIR) is an active snapshot prepared on the
 * stage's top snapshot, owned by this process (a kill leaves it to the next command's
 * clean-up): RUN runs a container of the engine on it (BuildHost.run, the engine's own run
 * path: default seccomp, capabilities and network unless the instruction says otherwise);
 * COPY/ADD/WORKDIR mount it and write into it. Its overlay upper dir then becomes a layer
 * (what the runtime made for its mounts left out), the snapshot is committed under the new
 * chain ID, and a cache record remembers the layer under the step's key (cache.ts). Every
 * other instruction only changes the config. The image is written at the end in one store
 * transaction: an interrupted build names nothing.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import { chainIDs, createLayer, type ContainerConfig, type Descriptor, type ImageConfig, type ImageService } from '../image/index.js';
import { parseHealthcheck } from '../image/changes.js';
import { hostPathIn, resolveInContainer } from '../image/fs-util.js';
import { extractArchive } from '../image/layers/copy.js';
import { type HistoryEntry, MediaType } from '../image/manifest.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform } from '../image/platform.js';
import { resolveUser } from '../image/runtime-config.js';
import { OWNER_LABEL } from '../image/snapshot/snapshotter.js';
import { currentOwner, formatOwner } from '../util/owner.js';
import { BuildCache, cacheKey, type CacheRecord } from './cache.js';
import { copyTar, digestCopy, matchSource, planCopy, type CopyEntry, type SourceRoot } from './copy.js';
import { addArchiveTar, isAddArchive } from './add-archive.js';
import { envLookup, Expander } from './expand.js';
import { IgnoreMatcher } from './ignore.js';
import { type Dockerfile, execForm, flagMap, type Instruction, nameValues, parseDockerfile, parseError, withLine } from './parser.js';
import { argDecls, automaticArgs, planStages, PROXY_ARGS, type Stage, stageRef, targetStage } from './stages.js';

/** One line of a build's progress, as the CLI (and the API's /build stream) shows it. */
export type BuildProgress =
  | { type: 'step'; id: number; name: string }
  | { type: 'log'; id: number; text: string; seconds: number }
  | { type: 'cached'; id: number }
  | { type: 'done'; id: number; seconds: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'info'; text: string };

/** What a RUN step asks the engine for. */
export interface RunStepRequest {
  /** The stage's config (Env, User, WorkingDir) the container starts from. */
  config: ImageConfig;
  cmd: string[];
  env: string[];
  user: string;
  workdir: string;
  /** `none`, `host` or `default` (the engine's default network). */
  network: string;
  /** Host paths bound into the container (cache, bind and secret mounts). */
  binds: { source: string; target: string; readonly: boolean }[];
  tmpfs: string[];
  /** stdout and stderr go here. */
  outputFd: number;
  signal?: AbortSignal;
}

/**
 * The engine's side of a build: the image service, mounts under the engine's swept
 * directories (a killed build's mount goes with the next command) and RUN containers.
 */
export interface BuildHost {
  images: ImageService;
  /** Where the builder keeps its cache records, cache mounts and temp files. */
  builderRoot: string;
  /** Mounts the (active or view) snapshot `key`; `release` unmounts it. */
  mount(key: string): Promise<{ root: string; release: () => Promise<void> }>;
  /** Runs a container on the active snapshot `key`; resolves with its exit code and the paths the runtime made for its mounts. */
  run(key: string, req: RunStepRequest): Promise<{ exitCode: number; made: Set<string> }>;
  /** Pulls an image a FROM names that the store does not have (or --pull). */
  pull(reference: string, platform: string | undefined, signal?: AbortSignal): Promise<void>;
}

/** What every build is asked for, whoever asks (the CLI through Engine.buildImage, the API). */
export interface BuildSettings {
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  /** RUN's default network: `default` (the engine's bridge), `none`, `host`. */
  network?: string;
  platform?: string;
  /** --secret id=ID,src=FILE: ids to files on the engine's host. */
  secrets?: Record<string, string>;
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
}

export interface BuildOptions extends BuildSettings {
  /** The context directory on the host. */
  context: string;
  /** The Dockerfile's text and its name (for messages). */
  dockerfile: string;
  dockerfileName?: string;
  /** The ignore file's text, when there is one. */
  ignore?: string;
}

export interface BuildResult {
  id: string;
  tags: string[];
  /** Steps that made layers, and how many of them came from the cache. */
  steps: number;
  cached: number;
  /** The built image's manifest (a remote engine's classic answer does not carry it). */
  manifest?: Descriptor;
}

interface StageState {
  config: ImageConfig;
  layers: Descriptor[];
  key: string;
  history: HistoryEntry[];
  /** The time metadata steps record: the last layer's, so an all-hits rebuild is the same image. */
  created: string;
  /** ARGs declared in the stage, with their values. */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  /** ONBUILD lines this stage adds. */
  onbuild: string[];
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Go's %q of a string slice, as BuildKit writes CMD and ENTRYPOINT into history. */
function goQuoteList(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
}

function chainOf(config: ImageConfig): string | undefined {
  return chainIDs(config.rootfs.diff_ids).at(-1);
}

function octal(s: string, line: number): number {
  if (!/^[0-7]{3,4}$/.test(s)) throw parseError(line, `invalid chmod parameter: ${s} (octal modes like 755 or 0644)`);
  return parseInt(s, 8);
}

/**
 * A base image found locally (or pulled) must be for the platform its stage asked for
 * (`--platform`, or `FROM --platform=`): brig keeps one image per name, so a linux/amd64
 * image under the name does not stand in for linux/arm64 (docker would pull the other one).
 */
function checkBasePlatform(s: Stage, want: { os: string; architecture: string; variant?: string }, have: ImageConfig): void {
  const got = normalizePlatform({ os: have.os ?? '', architecture: have.architecture ?? '', ...(have.variant ? { variant: have.variant } : {}) });
  const w = normalizePlatform(want);
  if (w.os === got.os && w.architecture === got.architecture && (w.variant === undefined || got.variant === undefined || w.variant === got.variant)) return;
  throw new BrigError('PLATFORM_NOT_FOUND', `dockerfile line ${s.from.line}: base image ${s.base} is ${formatPlatform(got)}, not the requested ${formatPlatform(w)}`, {
    field: `line ${s.from.line}`,
    hint: `pull it for that platform (brig pull --platform ${formatPlatform(w)} ${s.base}), build with --pull, or build for ${formatPlatform(got)}`,
  });
}

export class Builder {
  private readonly cache: BuildCache;
  private readonly df: Dockerfile;
  private readonly opts: BuildOptions;
  private readonly stageRuns = new Map<number, Promise<StageState>>();
  private stepSeq = 0;
  private steps = 0;
  private cachedSteps = 0;
  private readonly started = new Date().toISOString();
  private readonly ignore: IgnoreMatcher;
  private readonly platform;
  /** BUILDPLATFORM and the rest: the host's platform; TARGET*: the requested one. */
  private readonly autoArgs: Map<string, string>;
  private readonly buildArgs: Map<string, string>;
  private readonly usedBuildArgs = new Set<string>();
  /** Aborted when the caller's signal is, or when a stage fails (the others stop). */
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;

  constructor(
    private readonly host: BuildHost,
    opts: BuildOptions,
  ) {
    this.opts = opts;
    this.cache = new BuildCache(host.builderRoot);
    this.df = parseDockerfile(opts.dockerfile);
    this.ignore = IgnoreMatcher.parse(opts.ignore ?? '');
    this.platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    this.autoArgs = automaticArgs(this.platform, hostPlatform());
    this.buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
    this.signal = opts.signal ? AbortSignal.any([opts.signal, this.stop.signal]) : this.stop.signal;
  }

  private progress(p: BuildProgress): void {
    this.opts.onProgress?.(p);
  }

  async build(): Promise<BuildResult> {
    // brig has one Dockerfile frontend, its own: a syntax= image is not run; check= rules are not carried out.
    const d = this.df.directives;
    if (d.syntax !== undefined) this.progress({ type: 'info', text: `[Warning] parser directive syntax=${d.syntax} is ignored: brig builds with its own Dockerfile frontend` });
    if (d.check !== undefined) this.progress({ type: 'info', text: `[Warning] parser directive check=${d.check} is ignored: brig does not run build checks` });
    const plan = planStages(this.df, this.buildArgs, this.autoArgs);
    const target = targetStage(plan, this.opts.target);
    let state: StageState;
    try {
      state = await this.stage(plan.stages, target, plan.globalArgs);
    } catch (e) {
      // One stage failed: the others stop too (their RUN containers are killed), and the
      // build ends only once they have cleaned up.
      this.stop.abort(e);
      await Promise.allSettled(this.stageRuns.values());
      throw e;
    }
    this.signal.throwIfAborted();
    const unused = [...this.buildArgs.keys()].filter((k) => !this.usedBuildArgs.has(k) && !PROXY_ARGS.has(k) && !plan.globalArgs.has(k));
    if (unused.length > 0) this.progress({ type: 'info', text: `[Warning] One or more build-args [${unused.join(' ')}] were not consumed` });
    const image: ImageConfig = structuredClone(state.config);
    const cc = (image.config ??= {});
    if (this.opts.labels && Object.keys(this.opts.labels).length > 0) cc.Labels = { ...(cc.Labels ?? {}), ...this.opts.labels };
    cc.OnBuild = state.onbuild.length > 0 ? state.onbuild : null;
    image.history = state.history;
    image.created = state.history.at(-1)?.created ?? this.started;
    const images = this.host.images;
    const tags = this.opts.tags ?? [];
    const id = this.nextId();
    this.progress({ type: 'step', id, name: 'exporting to image' });
    const t0 = Date.now();
    const made = await images.store.transaction(async () => {
      const stored = await images.storeImage(image, state.layers);
      if (tags.length === 0) await images.store.setImage(undefined, stored.manifest);
      for (const t of tags) await images.store.setImage(t, stored.manifest);
      return stored;
    });
    this.progress({ type: 'log', id, text: `writing image ${made.id} done`, seconds: (Date.now() - t0) / 1000 });
    for (const t of tags) this.progress({ type: 'log', id, text: `naming to ${t} done`, seconds: (Date.now() - t0) / 1000 });
    this.progress({ type: 'done', id, seconds: (Date.now() - t0) / 1000 });
    return { id: made.id, tags, steps: this.steps, cached: this.cachedSteps, manifest: made.manifest };
  }

  private nextId(): number {
    return ++this.stepSeq;
  }

  /** A stage's state once built; started at most once, whoever asks first. */
  private stage(stages: readonly Stage[], s: Stage, globalArgs: Map<string, string | undefined>): Promise<StageState> {
    let p = this.stageRuns.get(s.index);
    if (!p) {
      p = this.runStage(stages, s, globalArgs);
      // The first stage to fail stops the others (their waits end with its error).
      p.catch((e: unknown) => this.stop.abort(e));
      this.stageRuns.set(s.index, p);
    }
    return p;
  }

  /** The stages `s` names, started now so that they build while `s` runs its earlier steps. */
  private startDependencies(stages: readonly Stage[], s: Stage, globalArgs: Map<string, string | undefined>): void {
    for (const ins of s.instructions) {
      const refs: string[] = [];
      if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
        const from = ins.flags.find((f) => f.startsWith('--from='));
        if (from) refs.push(from.slice('--from='.length));
      }
      if (ins.keyword === 'RUN') for (const f of ins.flags) for (const m of f.matchAll(/(?:^--mount=|,)from=([^,]+)/g)) refs.push(m[1]!);
      for (const r of refs) {
        const dep = stageRef(stages, r, s.index);
        if (dep) void this.stage(stages, dep, globalArgs);
      }
    }
  }

  private async runStage(stages: readonly Stage[], s: Stage, globalArgs: Map<string, string | undefined>): Promise<StageState> {
    this.startDependencies(stages, s, globalArgs);
    const label = s.name ?? (stages.length > 1 ? `stage-${s.index}` : '');
    const total = s.instructions.length + 1;
    const stepName = (i: number, ins: Instruction) => `[${label ? `${label} ` : ''}${i}/${total}] ${ins.original}`;
    let state = await this.base(stages, s, globalArgs, stepName(1, s.from));
    // ONBUILD triggers of the base image run first.
    const triggers = state.config.config?.OnBuild ?? [];
    if (state.config.config) state.config.config.OnBuild = null;
    for (const t of triggers) {
      const ins = parseDockerfile(t).instructions[0]!;
      if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(ins.keyword)) throw parseError(s.from.line, `${ins.keyword} isn't allowed as an ONBUILD trigger`);
      state = await this.step(stages, s, state, { ...ins, line: s.from.line }, `[${label ? `${label} ` : ''}1/${total}] ONBUILD ${t}`, globalArgs);
    }
    for (const [i, ins] of s.instructions.entries()) {
      this.signal?.throwIfAborted();
      state = await this.step(stages, s, state, ins, stepName(i + 2, ins), globalArgs);
    }
    return state;
  }

  private async base(stages: readonly Stage[], s: Stage, globalArgs: Map<string, string | undefined>, name: string): Promise<StageState> {
    const fresh = (config: ImageConfig, layers: Descriptor[], key: string, created: string): StageState => ({
      config: structuredClone(config),
      layers: [...layers],
      key,
      history: structuredClone(config.history ?? []),
      created,
      args: new Map(),
      cmdSet: false,
      onbuild: [],
    });
    const dep = stageRef(stages, s.base, s.index);
    if (dep) {
      const st = await this.stage(stages, dep, globalArgs);
      const out = fresh(st.config, st.layers, st.key, st.created);
      out.history = structuredClone(st.history);
      if (out.config.config) out.config.config.OnBuild = st.onbuild.length > 0 ? st.onbuild : null;
      return out;
    }
    const id = this.nextId();
    this.progress({ type: 'step', id, name });
    const t0 = Date.now();
    if (s.base === 'scratch') {
      this.progress({ type: 'done', id, seconds: 0 });
      const p = this.platform;
      return fresh({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}), config: {}, rootfs: { type: 'layers', diff_ids: [] } }, [], 'scratch', this.started);
    }
    const images = this.host.images;
    const platform = s.platform ?? this.opts.platform;
    let r = this.opts.pull ? undefined : await images.resolve(s.base).catch((e: BrigError) => {
      if (e.code !== 'IMAGE_NOT_FOUND') throw e;
      return undefined;
    });
    if (!r) {
      await this.host.pull(s.base, platform, this.signal);
      r = await images.resolve(s.base);
    }
    if (platform !== undefined) checkBasePlatform(s, parsePlatform(platform), r.config);
    this.progress({ type: 'done', id, seconds: (Date.now() - t0) / 1000 });
    return fresh(r.config, r.manifest.layers, r.id, r.config.created ?? this.started);
  }

  /** The stage's variables for expansion: its ENV over its ARGs (ENV wins, as docker's). */
  private expander(st: StageState): Expander {
    const args = new Map<string, string>();
    for (const [k, v] of st.args) if (v !== undefined) args.set(k, v);
    return new Expander(envLookup(args, st.config.config?.Env ?? []), this.df.escape);
  }

  /** Build args a RUN sees as env (declared ones, and proxy args given): not recorded in the image. */
  private argEnv(st: StageState): string[] {
    const env = new Set((st.config.config?.Env ?? []).map((e) => e.slice(0, e.indexOf('='))));
    const out: string[] = [];
    for (const [k, v] of st.args) if (v !== undefined && !env.has(k)) out.push(`${k}=${v}`);
    for (const k of PROXY_ARGS) {
      const v = this.buildArgs.get(k);
      if (v !== undefined && !st.args.has(k)) out.push(`${k}=${v}`);
    }
    return out;
  }

  private metadata(st: StageState, createdBy: string): void {
    st.history.push({ created: st.created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true });
  }

  private async step(stages: readonly Stage[], s: Stage, st: StageState, ins: Instruction, name: string, globalArgs: Map<string, string | undefined>): Promise<StageState> {
    try {
      return await this.runStep(stages, s, st, ins, name, globalArgs);
    } catch (e) {
      throw withLine(ins.line, e);
    }
  }

  private async runStep(stages: readonly Stage[], s: Stage, st: StageState, ins: Instruction, name: string, globalArgs: Map<string, string | undefined>): Promise<StageState> {
    const x = this.expander(st);
    const cc: ContainerConfig = (st.config.config ??= {});
    const meta = () => {
      const id = this.nextId();
      this.progress({ type: 'step', id, name });
      this.progress({ type: 'done', id, seconds: 0 });
    };
    switch (ins.keyword) {
      case 'ARG': {
        flagMap(ins, []);
        for (const [k, def] of argDecls(ins, this.df.escape)) {
          const given = this.buildArgs.get(k);
          if (given !== undefined) this.usedBuildArgs.add(k);
          const value = given ?? (def !== undefined ? x.word(def) : globalArgs.get(k) ?? this.autoArgs.get(k));
          st.args.set(k, value);
        }
        meta();
        this.metadata(st, `ARG ${argDecls(ins, this.df.escape).map(([k]) => (st.args.get(k) !== undefined ? `${k}=${st.args.get(k)}` : k)).join(' ')}`);
        return st;
      }
      case 'ENV': {
        flagMap(ins, []);
        const env = [...(cc.Env ?? [])];
        for (const [k, raw] of nameValues(ins, this.df.escape)) {
          // Each pair sees the pairs before it in the same line only after the line (docker's rule).
          const v = x.word(raw);
          const i = env.findIndex((e) => e.startsWith(`${k}=`));
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cc.Env = env;
        meta();
        this.metadata(st, `ENV ${nameValues(ins, this.df.escape).map(([k]) => env.find((e) => e.startsWith(`${k}=`))).join(' ')}`);
        return st;
      }
      case 'LABEL': {
        flagMap(ins, []);
        const labels = { ...(cc.Labels ?? {}) };
        const pairs = nameValues(ins, this.df.escape).map(([k, v]) => [x.word(k), x.word(v)] as const);
        for (const [k, v] of pairs) labels[k] = v;
        cc.Labels = labels;
        meta();
        this.metadata(st, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        return st;
      }
      case 'MAINTAINER': {
        flagMap(ins, []);
        st.config.author = ins.rest.trim();
        meta();
        this.metadata(st, `MAINTAINER ${st.config.author}`);
        return st;
      }
      case 'EXPOSE': {
        flagMap(ins, []);
        const ports = { ...(cc.ExposedPorts ?? {}) };
        for (const w of x.words(ins.rest)) {
          const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
          if (!m) throw parseError(ins.line, `invalid containerPort: ${w}`);
          const lo = Number(m[1]);
          const hi = m[2] === undefined ? lo : Number(m[2]);
          if (lo < 1 || hi > 65535 || hi < lo) throw parseError(ins.line, `invalid port range: ${w}`);
          for (let p = lo; p <= hi; p++) ports[`${p}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
        }
        cc.ExposedPorts = ports;
        meta();
        this.metadata(st, `EXPOSE map[${Object.keys(ports).sort().map((p) => `${p}:{}`).join(' ')}]`);
        return st;
      }
      case 'VOLUME': {
        flagMap(ins, []);
        const list = execForm(ins.rest)?.map((v) => x.word(v)) ?? x.words(ins.rest);
        if (list.length === 0 || list.some((v) => v.trim() === '')) throw parseError(ins.line, 'VOLUME specified can not be an empty string');
        cc.Volumes = { ...(cc.Volumes ?? {}) };
        for (const v of list) cc.Volumes[v] = {};
        meta();
        this.metadata(st, `VOLUME [${list.join(' ')}]`);
        return st;
      }
      case 'USER': {
        flagMap(ins, []);
        cc.User = x.word(ins.rest.trim());
        meta();
        this.metadata(st, `USER ${cc.User}`);
        return st;
      }
      case 'STOPSIGNAL': {
        flagMap(ins, []);
        const sig = x.word(ins.rest.trim());
        if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(sig)) throw parseError(ins.line, `invalid signal: ${sig}`);
        cc.StopSignal = sig;
        meta();
        this.metadata(st, `STOPSIGNAL ${sig}`);
        return st;
      }
      case 'SHELL': {
        flagMap(ins, []);
        const shell = execForm(ins.rest);
        if (!shell || shell.length === 0) throw parseError(ins.line, 'SHELL requires the arguments to be in JSON form');
        cc.Shell = shell;
        meta();
        this.metadata(st, `SHELL ${goQuoteList(shell)}`);
        return st;
      }
      case 'CMD':
      case 'ENTRYPOINT': {
        flagMap(ins, []);
        const list = execForm(ins.rest) ?? (ins.rest.trim() === '' ? [] : [...(cc.Shell ?? DEFAULT_SHELL), ins.rest]);
        if (ins.keyword === 'CMD') {
          cc.Cmd = list;
          st.cmdSet = true;
        } else {
          cc.Entrypoint = list.length > 0 ? list : null;
          // A new ENTRYPOINT drops an inherited CMD; one set in this stage stays.
          if (!st.cmdSet) cc.Cmd = null;
        }
        meta();
        this.metadata(st, `${ins.keyword} ${goQuoteList(list)}`);
        return st;
      }
      case 'HEALTHCHECK': {
        flagMap(ins, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
        let h;
        try {
          h = parseHealthcheck([...ins.flags, ins.rest].join(' '));
        } catch (e) {
          throw parseError(ins.line, (e as Error).message);
        }
        // The shell form runs in the image's shell (CMD-SHELL), as docker's builder records it.
        cc.Healthcheck = h;
        meta();
        this.metadata(st, `HEALTHCHECK &{${goQuoteList(h.Test ?? [])} ${['Interval', 'Timeout', 'StartPeriod', 'StartInterval'].map((k) => `"${goDur((h as Record<string, number | undefined>)[k] ?? 0)}"`).join(' ')} '\\x${(h.Retries ?? 0).toString(16).padStart(2, '0')}'}`);
        return st;
      }
      case 'ONBUILD': {
        flagMap(ins, []);
        const inner = ins.rest.trim();
        const word = /^(\S+)/.exec(inner)?.[1]?.toUpperCase() ?? '';
        if (word === 'ONBUILD') throw parseError(ins.line, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (word === 'FROM' || word === 'MAINTAINER') throw parseError(ins.line, `${word} isn't allowed as an ONBUILD trigger`);
        st.onbuild.push(inner);
        meta();
        this.metadata(st, `ONBUILD ${inner}`);
        return st;
      }
      case 'WORKDIR':
        return this.workdir(st, ins, name, x);
      case 'RUN':
        return this.run(stages, s, st, ins, name, globalArgs);
      case 'COPY':
      case 'ADD':
        return this.copy(stages, s, st, ins, name, globalArgs);
      default:
        throw parseError(ins.line, `${ins.keyword} cannot be used here`);
    }
  }

  /**
   * A step that makes a layer: a cache hit applies the recorded layer; a miss prepares an
   * active snapshot on the stage's top, lets `work` change it, and makes the layer.
   */
  private async layerStep(st: StageState, name: string, key: string, createdBy: string, work: (snapshot: string, id: number) => Promise<Set<string> | void>): Promise<StageState> {
    const images = this.host.images;
    const snap = images.snapshotter;
    if (!snap) throw new BrigError('INTERNAL', 'this engine has no snapshotter');
    const id = this.nextId();
    this.progress({ type: 'step', id, name });
    this.steps++;
    const t0 = Date.now();
    let rec = this.opts.noCache ? undefined : await this.cache.get(key);
    if (rec?.layer && !(await images.store.blobs.has(rec.layer.digest))) rec = undefined;
    if (rec) {
      this.cachedSteps++;
      // The snapshot is unpacked again (from the blob, if rmi or prune took it) only when a
      // later step needs it: an all-hits build mounts nothing.
      this.apply(st, rec, key, createdBy);
      this.progress({ type: 'cached', id });
      return st;
    }
    const parent = await this.unpacked(st.layers, st.config);
    const snapKey = randomBytes(32).toString('hex');
    await snap.prepare(snapKey, parent, { labels: { [OWNER_LABEL]: formatOwner(currentOwner()) } });
    let keep = false;
    try {
      const made = (await work(snapKey, id)) ?? new Set<string>();
      this.signal?.throwIfAborted();
      const upper = await snap.upperDir(snapKey);
      if (upper === undefined) throw new BrigError('UNSUPPORTED_FIELD', `brig build needs the overlayfs snapshotter (this engine uses ${snap.name})`);
      const created = new Date().toISOString();
      if (await emptyUpper(upper, made)) rec = { created };
      else {
        const layer = await images.store.transaction(() => createLayer(upper, images.store.blobs, { overlayDiff: true, exclude: made, signal: this.signal }));
        // The snapshot must hold what the layer holds: the runtime's mountpoints go.
        for (const p of made) await fs.rm(path.join(upper, p), { recursive: true, force: true });
        const chain = chainIDs([...st.config.rootfs.diff_ids, layer.diffID]).at(-1)!;
        try {
          await snap.commit(chain, snapKey);
          keep = true;
        } catch (e) {
          // The same layer on the same parent exists (another build made it): use that.
          if ((e as BrigError).code !== 'SNAPSHOT_EXISTS') throw e;
        }
        rec = { layer: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, diffID: layer.diffID, created };
      }
      await this.cache.put(key, rec);
    } finally {
      if (!keep) await snap.remove(snapKey).catch(() => undefined);
    }
    this.apply(st, rec, key, createdBy);
    this.progress({ type: 'done', id, seconds: (Date.now() - t0) / 1000 });
    return st;
  }

  private apply(st: StageState, rec: CacheRecord, key: string, createdBy: string): void {
    st.key = key;
    st.created = rec.created;
    if (rec.layer && rec.diffID) {
      st.layers.push(rec.layer);
      st.config.rootfs = { type: 'layers', diff_ids: [...st.config.rootfs.diff_ids, rec.diffID] };
      st.history.push({ created: rec.created, created_by: createdBy, comment: 'buildkit.dockerfile.v0' });
    } else st.history.push({ created: rec.created, created_by: createdBy, comment: 'buildkit.dockerfile.v0', empty_layer: true });
  }

  /** Mounts an active snapshot for `fn`, and unmounts it whatever happens. */
  private async mounted<T>(key: string, fn: (root: string) => Promise<T>): Promise<T> {
    const m = await this.host.mount(key);
    try {
      return await fn(m.root);
    } finally {
      await m.release();
    }
  }

  private async workdir(st: StageState, ins: Instruction, name: string, x: Expander): Promise<StageState> {
    flagMap(ins, []);
    const cc = (st.config.config ??= {});
    const raw = x.word(ins.rest.trim());
    const dir = path.posix.resolve(cc.WorkingDir || '/', raw);
    cc.WorkingDir = dir;
    const user = cc.User ?? '';
    const key = cacheKey(st.key, 'WORKDIR', dir, user);
    return this.layerStep(st, name, key, `WORKDIR ${dir}`, async (snapshot) => {
      await this.mounted(snapshot, async (root) => {
        const made = await mkdirIn(root, dir);
        if (made.length > 0 && user !== '') {
          const u = await resolveUser(root, user);
          for (const d of made) await fs.lchown(hostPathIn(root, d), u.uid, u.gid);
        }
      });
    });
  }

  private async run(stages: readonly Stage[], s: Stage, st: StageState, ins: Instruction, name: string, globalArgs: Map<string, string | undefined>): Promise<StageState> {
    const flags = flagMap(ins, ['mount', 'network', 'security'], ['mount']);
    const cc = (st.config.config ??= {});
    const shell = cc.Shell ?? DEFAULT_SHELL;
    const exec = execForm(ins.rest);
    let cmd: string[];
    const scripts: { name: string; content: string }[] = [];
    if (exec) cmd = exec;
    else if (ins.heredocs.length === 1 && new RegExp(`^\\d*<<-?(["']?)${escapeRe(ins.heredocs[0]!.name)}\\1\\s*$`).test(ins.rest.trim())) {
      // `RUN <<EOF`: the body is the script; a #! line picks its interpreter.
      const h = ins.heredocs[0]!;
      if (h.content.startsWith('#!')) {
        scripts.push({ name: h.name, content: h.content });
        cmd = [`/dev/pipes/${h.name}`];
      } else cmd = [...shell, h.content];
    } else if (ins.heredocs.length > 0) {
      // Heredocs inside a command: the shell reads them, as written.
      cmd = [...shell, `${ins.rest}\n${ins.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`];
    } else cmd = [...shell, ins.rest];
    const network = flags.get('network')?.[0] ?? this.opts.network ?? 'default';
    if (!['default', 'none', 'host'].includes(network)) throw parseError(ins.line, `unsupported network mode: ${network} (default, none or host)`);
    const security = flags.get('security')?.[0];
    if (security !== undefined && security !== 'sandbox') throw parseError(ins.line, `RUN --security=${security} is not supported (only sandbox)`);
    const mounts = (flags.get('mount') ?? []).map((m) => parseRunMount(m, ins.line, this.expander(st)));
    const argEnv = this.argEnv(st);
    // History names every ARG of the stage, with the value the RUN sees (BuildKit's runCommandString).
    const envNow = envLookup(cc.Env ?? []);
    const usedArgs = [...st.args].map(([k, v]) => `${k}=${envNow(k) ?? v ?? ''}`);
    for (const e of argEnv) this.usedBuildArgs.add(e.slice(0, e.indexOf('=')));
    const env = [...(cc.Env ?? []), ...argEnv];
    const createdBy = `RUN ${usedArgs.length > 0 ? `|${usedArgs.length} ${usedArgs.join(' ')} ` : ''}${cmd.join(' ')} # buildkit`;
    // What the mounts bring in is part of the key: a bind's content, a stage's key.
    const mountKeys: unknown[] = [];
    for (const m of mounts) {
      if (m.type === 'bind' && m.from === undefined) {
        const src: SourceRoot = { root: this.opts.context, ignore: this.ignore, what: 'build context' };
        const found = await matchSource(src, m.source ?? '/', { outsideIsError: true });
        const entries: CopyEntry[] = [];
        for (const f of found) entries.push(...(await planCopy(src, [f], '/x/', true, '/x/')).entries);
        mountKeys.push({ ...m, digest: await digestCopy(entries, '') });
      } else if (m.from !== undefined) {
        const dep = stageRef(stages, m.from, s.index);
        mountKeys.push({ ...m, stage: dep ? (await this.stage(stages, dep, globalArgs)).key : m.from });
      } else if (m.type === 'secret') mountKeys.push({ type: 'secret', id: m.id, target: m.target });
      else mountKeys.push(m);
    }
    const key = cacheKey(st.key, 'RUN', cmd, env, cc.User ?? '', cc.WorkingDir ?? '', network, mountKeys, scripts);
    return this.layerStep(st, name, key, createdBy, async (snapshot, id) => {
      const work = await builderTmp(this.host.builderRoot, 'run');
      const releases: (() => Promise<void>)[] = [];
      const binds: RunStepRequest['binds'] = [];
      const tmpfs: string[] = [];
      try {
        for (const sc of scripts) {
          const f = path.join(work, `script-${sc.name}`);
          await fs.writeFile(f, sc.content, { mode: 0o755 });
          binds.push({ source: f, target: `/dev/pipes/${sc.name}`, readonly: true });
        }
        for (const m of mounts) await this.runMount(stages, s, m, binds, tmpfs, releases, work, globalArgs, ins.line);
        const logFile = path.join(work, 'output');
        const fh = await fs.open(logFile, 'w+', 0o600);
        const tail: string[] = [];
        const t0 = Date.now();
        let offset = 0;
        let partial = '';
        const drain = async (final: boolean) => {
          const { size } = await fh.stat();
          if (size > offset) {
            const b = Buffer.alloc(size - offset);
            await fh.read(b, 0, b.length, offset);
            offset = size;
            partial += b.toString('utf8');
          }
          const lines = partial.split('\n');
          partial = final ? '' : lines.pop()!;
          for (const l of lines) {
            if (final && l === '' && lines.at(-1) === l) continue;
            tail.push(l);
            if (tail.length > 10) tail.shift();
            this.progress({ type: 'log', id, text: l, seconds: (Date.now() - t0) / 1000 });
          }
        };
        let draining = Promise.resolve();
        const timer = setInterval(() => {
          draining = draining.then(() => drain(false)).catch(() => undefined);
        }, 200);
        let result;
        try {
          result = await this.host.run(snapshot, {
            config: st.config,
            cmd,
            env,
            user: cc.User ?? '',
            workdir: cc.WorkingDir || '/',
            network,
            binds,
            tmpfs,
            outputFd: fh.fd,
            signal: this.signal,
          });
        } finally {
          clearInterval(timer);
          await draining;
          await drain(true);
          await fh.close();
        }
        this.signal?.throwIfAborted();
        if (result.exitCode !== 0) {
          const shown = cmd.join(' ');
          const msg = `process "${shown}" did not complete successfully: exit code: ${result.exitCode}`;
          this.progress({ type: 'error', id, message: msg });
          throw new BrigError('BUILD_STEP_FAILED', `${name}: ${msg}${tail.length > 0 ? `\n------\n${tail.map((l) => ` > ${l}`).join('\n')}\n------` : ''}`, {
            field: `Dockerfile line ${ins.line}`,
          });
        }
        return result.made;
      } finally {
        for (const r of releases.reverse()) await r().catch(() => undefined);
        await fs.rm(work, { recursive: true, force: true });
      }
    });
  }

  /** One RUN --mount into binds/tmpfs (released after the step). */
  private async runMount(stages: readonly Stage[], s: Stage, m: RunMount, binds: RunStepRequest['binds'], tmpfs: string[], releases: (() => Promise<void>)[], work: string, globalArgs: Map<string, string | undefined>, line: number): Promise<void> {
    switch (m.type) {
      case 'tmpfs':
        tmpfs.push(m.target);
        return;
      case 'secret': {
        const src = this.opts.secrets?.[m.id ?? ''];
        if (src === undefined) {
          if (m.required) throw parseError(line, `secret ${m.id} not provided (brig build --secret id=${m.id},src=FILE)`);
          return;
        }
        const copy = path.join(work, `secret-${randomBytes(4).toString('hex')}`);
        await fs.copyFile(src, copy);
        await fs.chmod(copy, m.mode ?? 0o400);
        await fs.chown(copy, m.uid ?? 0, m.gid ?? 0);
        binds.push({ source: copy, target: m.target, readonly: true });
        return;
      }
      case 'cache': {
        const dir = path.join(this.host.builderRoot, 'cache-mounts', cacheKey(m.id ?? m.target).slice(7, 39));
        const made = await fs.mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
        if (made !== undefined) await fs.chown(dir, m.uid ?? 0, m.gid ?? 0);
        binds.push({ source: dir, target: m.target, readonly: m.readonly });
        return;
      }
      case 'bind': {
        let root = this.opts.context;
        if (m.from !== undefined) {
          const dep = stageRef(stages, m.from, s.index);
          const image = dep ? undefined : await this.imageFor(m.from);
          const v = await this.view(dep ? await this.stage(stages, dep, globalArgs) : { config: image!.config, layers: image!.manifest.layers });
          releases.push(v.release);
          root = v.root;
        }
        const inner = resolveInContainer(root, path.posix.normalize(`/${m.source ?? ''}`));
        let source = hostPathIn(root, inner);
        if (!m.readonly) {
          // A writable bind writes into a copy: nothing reaches the context or the stage.
          const copy = path.join(work, `bind-${randomBytes(4).toString('hex')}`);
          await fs.cp(source, copy, { recursive: true, verbatimSymlinks: true });
          source = copy;
        }
        binds.push({ source, target: m.target, readonly: m.readonly });
        return;
      }
    }
  }

  private async imageFor(ref: string) {
    const images = this.host.images;
    let r = await images.resolve(ref).catch((e: BrigError) => {
      if (e.code !== 'IMAGE_NOT_FOUND') throw e;
      return undefined;
    });
    if (!r) {
      await this.host.pull(ref, this.opts.platform, this.signal);
      r = await images.resolve(ref);
    }
    return r;
  }

  /** The snapshot of these layers, unpacked from their blobs if it is gone; its chain ID. */
  private async unpacked(layers: Descriptor[], config: ImageConfig): Promise<string | undefined> {
    const chain = chainOf(config);
    if (chain === undefined) return undefined;
    const snap = this.host.images.snapshotter!;
    const present = await snap.stat(chain).then(
      () => true,
      (e: BrigError) => {
        if (e.code !== 'SNAPSHOT_NOT_FOUND') throw e;
        return false;
      },
    );
    if (!present) await this.host.images.unpack({ schemaVersion: 2, config: { mediaType: MediaType.OciConfig, digest: chain, size: 0 }, layers }, config, this.signal);
    return chain;
  }

  /** A read-only mount of a stage's or image's top (an empty directory for none). */
  private async view(of: { config: ImageConfig; layers: Descriptor[] }): Promise<{ root: string; release: () => Promise<void> }> {
    const chain = await this.unpacked(of.layers, of.config);
    if (chain === undefined) {
      const d = await builderTmp(this.host.builderRoot, 'empty');
      return { root: d, release: () => fs.rm(d, { recursive: true, force: true }) };
    }
    const snap = this.host.images.snapshotter!;
    const key = randomBytes(32).toString('hex');
    await snap.view(key, chain, { labels: { [OWNER_LABEL]: formatOwner(currentOwner()) } });
    try {
      const m = await this.host.mount(key);
      return {
        root: m.root,
        release: async () => {
          await m.release();
          await snap.remove(key);
        },
      };
    } catch (e) {
      await snap.remove(key).catch(() => undefined);
      throw e;
    }
  }

  private async copy(stages: readonly Stage[], s: Stage, st: StageState, ins: Instruction, name: string, globalArgs: Map<string, string | undefined>): Promise<StageState> {
    const isAdd = ins.keyword === 'ADD';
    const flags = flagMap(ins, isAdd ? ['from', 'chown', 'chmod', 'link', 'exclude', 'checksum', 'keep-git-dir'] : ['from', 'chown', 'chmod', 'link', 'exclude', 'parents'], ['exclude']);
    // BuildKit's --parents keeps the sources' directories under the destination; copying
    // without them would put files where the Dockerfile does not expect, so it is refused.
    if (flags.has('parents')) throw parseError(ins.line, 'COPY --parents is not supported by brig (copy each directory with its own COPY src/ dest/src/)');
    const x = this.expander(st);
    const cc = (st.config.config ??= {});
    const exec = execForm(ins.rest);
    const words = exec ? exec.map((w) => x.word(w)) : ins.heredocs.length > 0 ? ins.rest.trim().split(/\s+/).map((w) => (/^\d*<</.test(w) ? w : x.word(w))) : x.words(ins.rest);
    if (words.length < 2) throw parseError(ins.line, `${ins.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
    const rawDest = words.at(-1)!;
    const srcs = words.slice(0, -1);
    const flag = (n: string) => (flags.get(n)?.[0] !== undefined ? x.word(flags.get(n)![0]!) : undefined);
    const from = flag('from');
    const chown = flag('chown');
    const chmodRaw = flag('chmod');
    const chmod = chmodRaw === undefined ? undefined : octal(chmodRaw, ins.line);
    const excludes = (flags.get('exclude') ?? []).map((e) => x.word(e));
    const exclude = new IgnoreMatcher(excludes);
    const checksum = flags.get('checksum')?.[0];
    const dest = path.posix.resolve(cc.WorkingDir || '/', rawDest);
    const endsSlash = rawDest.endsWith('/') || rawDest.endsWith('/.') || rawDest === '.';
    const several = srcs.length > 1 || srcs.some((w) => /[*?[]/.test(w));
    const createdBy = `${ins.keyword} ${[chown ? `--chown=${chown}` : '', chmodRaw ? `--chmod=${chmodRaw}` : '', from ? `--from=${from}` : ''].filter(Boolean).join(' ')}${chown || chmodRaw || from ? ' ' : ''}${srcs.join(' ')} ${rawDest} # buildkit`;
    const settings = [srcs, dest, endsSlash, cc.WorkingDir ?? '', chown ?? '', chmodRaw ?? '', excludes];
    const work = await builderTmp(this.host.builderRoot, 'copy');
    try {
      // Sources: from another stage or image (keyed by what built them: the stage's cache
      // key, the image's ID; read only on a miss), or from the context, heredocs and URLs
      // (keyed by the content digest of what they hold).
      let key: string;
      let sources: (root: string) => Promise<{ groups: { root: SourceRoot; paths: string[] }[]; archives: { file: string; name: string }[]; release: () => Promise<void> }>;
      if (from !== undefined) {
        const dep = stageRef(stages, from, s.index);
        const src = dep ? await this.stage(stages, dep, globalArgs) : undefined;
        const image = dep ? undefined : await this.imageFor(from);
        key = cacheKey(st.key, ins.keyword, 'from', src?.key ?? image!.id, ...settings);
        sources = async () => {
          const v = await this.view(src ?? { config: image!.config, layers: image!.manifest.layers });
          const root: SourceRoot = { root: v.root, what: dep ? `stage ${dep.name ?? dep.index}` : `image ${from}` };
          const paths: string[] = [];
          for (const w of srcs) {
            const found = await matchSource(root, w, { outsideIsError: false });
            if (found.length === 0) throw new BrigError('BUILD_CONTEXT', `${ins.keyword} failed: no source files were specified (${w} matches nothing in the ${root.what})`, { path: w });
            paths.push(...found);
          }
          return { groups: [{ root, paths }], archives: [], release: v.release };
        };
      } else {
        const ctxRoot: SourceRoot = { root: this.opts.context, ignore: this.ignore, what: 'build context' };
        const heredocRoot: SourceRoot = { root: path.join(work, 'heredoc'), what: 'heredoc' };
        const urlRoot: SourceRoot = { root: path.join(work, 'url'), what: 'download' };
        const groups: { root: SourceRoot; paths: string[] }[] = [];
        const archives: { file: string; name: string }[] = [];
        for (const src of srcs) {
          const here = /^\d*<<-?(["']?)(.+)\1$/.exec(src);
          const h = here ? ins.heredocs.find((y) => y.name === here[2]) : undefined;
          if (h) {
            await fs.mkdir(heredocRoot.root, { recursive: true });
            await fs.writeFile(path.join(heredocRoot.root, h.name), h.expand ? x.heredoc(h.content) : h.content, { mode: chmod ?? 0o644 });
            groups.push({ root: heredocRoot, paths: [`/${h.name}`] });
          } else if (isAdd && /^https?:\/\//.test(src)) {
            await fs.mkdir(urlRoot.root, { recursive: true });
            const base = path.posix.basename(new URL(src).pathname) || 'download';
            await download(src, path.join(urlRoot.root, base), checksum, ins.line, this.signal);
            groups.push({ root: urlRoot, paths: [`/${base}`] });
          } else {
            if (checksum !== undefined) throw parseError(ins.line, "checksum can't be specified for non-HTTP(S) sources");
            const found = await matchSource(ctxRoot, src, { outsideIsError: true });
            if (found.length === 0) throw new BrigError('BUILD_CONTEXT', `${ins.keyword} failed: no source files were specified (${src} matches nothing in the build context)`, { path: src });
            const plain: string[] = [];
            for (const f of found) {
              const abs = hostPathIn(ctxRoot.root, f);
              // ADD unpacks a local tar archive (plain or compressed) into DEST.
              if (isAdd && (await fs.lstat(abs)).isFile() && (await isAddArchive(abs))) archives.push({ file: abs, name: f });
              else plain.push(f);
            }
            if (plain.length > 0) groups.push({ root: ctxRoot, paths: plain });
          }
        }
        const entries: CopyEntry[] = [];
        for (const g of groups) for (const e of (await planCopy(g.root, g.paths, '/d', true, '/d/')).entries) entries.push({ ...e, name: `${g.root.what}:${e.name}` });
        for (const a of archives) entries.push({ abs: a.file, name: `archive:${a.name}`, st: await fs.lstat(a.file) });
        key = cacheKey(st.key, ins.keyword, ...settings, await digestCopy(entries.filter((e) => exclude.empty || !exclude.ignored(e.name.slice(e.name.indexOf(':') + 1))), ''));
        sources = async () => ({ groups, archives, release: async () => {} });
      }
      return await this.layerStep(st, name, key, createdBy, async (snapshot) => {
        await this.mounted(snapshot, async (root) => {
          const src = await sources(root);
          try {
            const count = src.groups.reduce((n, g) => n + g.paths.length, 0) + src.archives.length;
            const destIsDir = endsSlash || ((await fs.stat(hostPathIn(root, resolveInContainer(root, dest))).catch(() => undefined))?.isDirectory() ?? false);
            if ((several || count > 1) && !destIsDir) {
              throw parseError(ins.line, `When using ${ins.keyword} with more than one source file, the destination must be a directory and end with a /`);
            }
            let owner = { uid: 0, gid: 0 };
            if (chown !== undefined) {
              // docker: a user without a group takes the user's numeric id as the group too.
              const [u, g] = chown.split(':', 2) as [string, string | undefined];
              const ru = await resolveUser(root, g === undefined ? u : `${u}:${g}`).catch((e: BrigError) => {
                throw new BrigError('BUILD_STEP_FAILED', `${ins.keyword} --chown=${chown}: ${e.message.replace("the image's", "the stage's")}`, { field: `Dockerfile line ${ins.line}`, cause: e });
              });
              owner = { uid: ru.uid, gid: g === undefined ? ru.uid : ru.gid };
            }
            for (const g of src.groups) {
              const p = await planCopy(g.root, g.paths, dest, destIsDir, rawDest);
              if (!exclude.empty) p.entries = p.entries.filter((e) => !exclude.ignored(e.name));
              const made = await mkdirIn(root, p.destDir);
              if (chown !== undefined) for (const d of made) await fs.lchown(hostPathIn(root, d), owner.uid, owner.gid);
              const inner = resolveInContainer(root, p.destDir);
              await extractArchive(copyTar(p.entries, chmod), root, inner.replace(/^\/+/, ''), { owner });
            }
            for (const a of src.archives) {
              await mkdirIn(root, dest);
              const inner = resolveInContainer(root, dest);
              await extractArchive(addArchiveTar(a.file, this.signal), root, inner.replace(/^\/+/, ''), { owner: 'archive' });
            }
          } finally {
            await src.release();
          }
        });
      });
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Go's time.Duration String for whole nanoseconds (what BuildKit prints for HEALTHCHECK). */
function goDur(ns: number): string {
  if (ns === 0) return '0s';
  const s = ns / 1e9;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = +(s % 60).toFixed(9);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}

/** Creates `dir` (inside the root, symlinks resolved) and its missing parents; returns what it made. */
async function mkdirIn(root: string, dir: string): Promise<string[]> {
  const inner = resolveInContainer(root, dir);
  const made: string[] = [];
  let cur = '';
  for (const c of inner.split('/').filter(Boolean)) {
    cur = `${cur}/${c}`;
    const p = hostPathIn(root, cur);
    try {
      await fs.mkdir(p, { mode: 0o755 });
      made.push(cur);
    } catch (e) {
      if (!hasErrno(e, 'EEXIST')) throw e;
      if (!(await fs.stat(p)).isDirectory()) throw new BrigError('BUILD_STEP_FAILED', `cannot create directory ${dir}: ${cur} is not a directory`, { path: dir });
    }
  }
  return made;
}

/** Whether an upper dir holds nothing but the runtime's mountpoints (and the directories above them). */
async function emptyUpper(upper: string, made: ReadonlySet<string>): Promise<boolean> {
  const walk = async (rel: string): Promise<boolean> => {
    for (const n of await fs.readdir(path.join(upper, rel))) {
      const r = `${rel}/${n}`;
      if (made.has(r)) continue;
      const st = await fs.lstat(path.join(upper, r));
      if (!st.isDirectory()) return false;
      // A directory that only leads to mountpoints was made for them (copy-up of its parent).
      if (![...made].some((m) => m.startsWith(`${r}/`))) return false;
      if (!(await walk(r))) return false;
    }
    return true;
  };
  return walk('');
}

interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret';
  target: string;
  source?: string;
  from?: string;
  id?: string;
  readonly: boolean;
  required?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** `--mount=type=cache,target=/root/.npm[,id=,from=,source=,ro,mode=,uid=,gid=,sharing=]` */
function parseRunMount(spec: string, line: number, x: Expander): RunMount {
  const m: Partial<RunMount> & { readonly: boolean } = { type: 'bind', readonly: true };
  let rw: boolean | undefined;
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const v = eq < 0 ? undefined : x.word(part.slice(eq + 1));
    switch (k) {
      case 'type':
        if (!['bind', 'cache', 'tmpfs', 'secret'].includes(v ?? '')) throw parseError(line, `unsupported mount type "${v}" (bind, cache, tmpfs, secret)`);
        m.type = v as RunMount['type'];
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = v;
        break;
      case 'source':
      case 'src':
        m.source = v;
        break;
      case 'from':
        m.from = v;
        break;
      case 'id':
        m.id = v;
        break;
      case 'ro':
      case 'readonly':
        rw = v === 'false';
        break;
      case 'rw':
      case 'readwrite':
        rw = v !== 'false';
        break;
      case 'required':
        m.required = v !== 'false';
        break;
      case 'mode':
        if (!/^[0-7]+$/.test(v ?? '')) throw parseError(line, `invalid mount mode: ${v}`);
        m.mode = parseInt(v!, 8);
        break;
      case 'uid':
      case 'gid':
        if (!/^\d+$/.test(v ?? '')) throw parseError(line, `invalid mount ${k}: ${v}`);
        m[k] = Number(v);
        break;
      case 'sharing':
      case 'size':
        break;
      default:
        throw parseError(line, `unexpected key '${k}' in '${part}'`);
    }
  }
  if (m.type === 'secret') {
    if (m.id === undefined) m.id = m.target ? path.posix.basename(m.target) : undefined;
    if (m.id === undefined) throw parseError(line, 'secret mount needs id= or target=');
    m.target ??= `/run/secrets/${m.id}`;
  }
  if (m.target === undefined) throw parseError(line, `mount type=${m.type} needs target=`);
  if (!m.target.startsWith('/')) m.target = `/${m.target}`;
  // A cache mount is writable unless told otherwise; a bind is read-only unless rw.
  m.readonly = m.type === 'cache' ? rw === false : rw !== true;
  if (m.type === 'cache' && m.id === undefined) m.id = m.target;
  return m as RunMount;
}

/** ADD URL: fetched (only http/https), checked against --checksum when given. */
async function download(url: string, file: string, checksum: string | undefined, line: number, signal?: AbortSignal): Promise<void> {
  const res = await fetch(url, signal ? { signal } : {}).catch((e: Error) => {
    throw new BrigError('BUILD_STEP_FAILED', `ADD ${url}: ${e.message}`, { field: `Dockerfile line ${line}`, cause: e });
  });
  if (!res.ok || !res.body) throw new BrigError('BUILD_STEP_FAILED', `ADD ${url}: invalid response status ${res.status}`, { field: `Dockerfile line ${line}` });
  const body = Buffer.from(await res.arrayBuffer());
  if (checksum !== undefined) {
    const m = /^sha256:([a-f0-9]{64})$/.exec(checksum);
    if (!m) throw parseError(line, `invalid checksum digest format: ${checksum}`);
    const got = (await import('node:crypto')).createHash('sha256').update(body).digest('hex');
    if (got !== m[1]) throw new BrigError('BUILD_STEP_FAILED', `ADD ${url}: digest mismatch ${checksum}: sha256:${got}`, { field: `Dockerfile line ${line}` });
  }
  const lm = res.headers.get('last-modified');
  await fs.writeFile(file, body, { mode: 0o600 });
  if (lm) {
    const t = new Date(lm);
    if (!Number.isNaN(t.getTime())) await fs.utimes(file, t, t);
  }
}

/**
 * The builder's temp directories are named `<owner>-...` (src/util/owner.ts): what a killed
 * build left is removed by the next build or prune.
 */
export async function builderTmp(builderRoot: string, kind: string): Promise<string> {
  const tmp = path.join(builderRoot, 'tmp');
  await fs.mkdir(tmp, { recursive: true, mode: 0o700 });
  return fs.mkdtemp(path.join(tmp, `${formatOwner(currentOwner())}-${kind}-`));
}

/** Builds `opts.dockerfile` in `opts.context`. */
export async function build(host: BuildHost, opts: BuildOptions): Promise<BuildResult> {
  return new Builder(host, opts).build();
}
