/**
 * Runs the native helper on a LaunchPlan and speaks its sync protocol:
 *
 *   caller                      helper (stage 0)            init (the clone)
 *   PLAN ───────────────────▶  runs stage-0 ops, clones ─▶
 *        ◀─────────────── PID
 *   onPid: id maps, cgroups
 *   GO ──────────────────────────────────────────────────▶ runs setup ops
 *        ◀──────────────────────────────────────────────── READY
 *   onReady: record state
 *   START ───────────────────────────────────────────────▶ exec (control fd closes on exec)
 *        ◀──────────────────────────────────────────────── ERROR (instead, at any point)
 *
 * The helper is a separately executed program because Node is multi-threaded before user
 * code runs, and the kernel refuses unshare(CLONE_NEWUSER) and some setns in such a process.
 */
import { existsSync } from 'node:fs';
import { BrigError } from '../errors/index.js';
import type { LaunchPlan } from '../runtime/plan/ops.js';
import { encodePlan } from './encode.js';
import { decodeErrorRecord, ERROR_RECORD_SIZE, toBrigError } from './errors.js';
import type { Stage0 } from './stage0.js';
import { SpawnedStage0 } from './stage0-spawned.js';

const MSG = { PLAN: 1, PID: 2, GO: 3, READY: 4, START: 5, ERROR: 6, HOOKS: 7, CONTINUE: 8 } as const;

export interface LaunchHooks {
  /**
   * init exists and has run nothing yet: write id maps, place it in cgroups. What this
   * returns is handed to init with the go-ahead (the seccomp agent's process state).
   */
  onPid?(pid: number): Promise<Uint8Array | undefined | void> | Uint8Array | undefined | void;
  /**
   * Before the root switch, when the config has create hooks: run the runtime-namespace
   * ones; what this returns (the container state) goes to the hooks init runs itself.
   */
  onHooks?(): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** init is fully set up and waits: record it; when this resolves init execs the program. */
  onReady?(pid: number): Promise<void> | void;
}

export interface LaunchOptions {
  /**
   * Resolve once init has been told to start instead of when it execs: for `create`, whose
   * init then waits on the exec FIFO until `start`, long after this process has exited.
   */
  untilStart?: boolean;
  /** fds for the container's stdin, stdout, stderr, then any preserved fds. */
  stdio: (number | 'ignore')[];
  signal?: AbortSignal;
}

export interface Launched {
  /** Host pid of the container's init. */
  pid: number;
  /** The helper's exit: init's exit code when the plan waits for it (128+n for signal n). */
  exit: Promise<number>;
}

export class Helper {
  /**
   * @param path the helper binary
   * @param inherited a stage 0 brig-runtime's launcher forked ahead (stage0-inherited.ts):
   *   the first launch whose stdio is this process's own uses it instead of spawning.
   */
  constructor(
    private readonly path: string,
    private inherited?: Stage0,
  ) {}

  available(): boolean {
    return existsSync(this.path);
  }

  /**
   * Starts the helper process; it waits for its plan. Starting it before the plan is
   * compiled lets its own start-up overlap the compile.
   */
  start(opts: LaunchOptions): HelperProcess {
    const inherited = this.inherited;
    if (inherited && hasStdio(inherited, opts.stdio)) {
      this.inherited = undefined;
      return new HelperProcess(inherited, opts);
    }
    if (!this.available()) {
      throw new BrigError('HELPER_MISSING', `native helper not found at ${this.path}`, {
        path: this.path,
        hint: 'run `npm run build`',
      });
    }
    return new HelperProcess(new SpawnedStage0(this.path, opts.stdio), opts);
  }

  /** A stage 0 something else started: a container's monitor forked it (stage0-monitor.ts). */
  adopt(stage0: Stage0, opts: Omit<LaunchOptions, 'stdio'>): HelperProcess {
    return new HelperProcess(stage0, { ...opts, stdio: [] });
  }

  /** start + run in one step. */
  async launch(plan: LaunchPlan, hooks: LaunchHooks, opts: LaunchOptions): Promise<Launched> {
    return this.start(opts).run(plan, hooks);
  }

  /** Lets an unused inherited stage 0 go: it reads EOF and exits. */
  release(): void {
    this.inherited?.closeChannel();
    this.inherited = undefined;
  }
}

/**
 * Whether a stage 0 forked by the launcher already has the stdio asked for: this process's
 * own [0, 1, 2, 3, ...], or with stdin ignored when the launcher gave it /dev/null.
 */
function hasStdio(stage0: Stage0, stdio: (number | 'ignore')[]): boolean {
  return stdio.every((fd, i) => (i === 0 && stage0.stdinNull === true ? fd === 'ignore' : fd === i));
}

/** One helper process: stage 0 of one container. */
export class HelperProcess {
  readonly pid: number;
  readonly origin: Stage0['origin'];
  private readonly signal: AbortSignal | undefined;
  private readonly untilStart: boolean;
  private readonly onAbort = () => this.stage0.kill();

  constructor(
    private readonly stage0: Stage0,
    opts: LaunchOptions,
  ) {
    this.pid = stage0.pid;
    this.origin = stage0.origin;
    this.signal = opts.signal;
    this.untilStart = opts.untilStart ?? false;
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Sends the plan and drives it; resolves once the user program has been exec'd. */
  async run(plan: LaunchPlan, hooks: LaunchHooks): Promise<Launched> {
    try {
      const pid = await drive(this.stage0, plan, hooks, this.untilStart);
      this.stage0.closeChannel();
      return { pid, exit: this.stage0.exit };
    } catch (e) {
      await this.kill();
      throw e;
    } finally {
      this.signal?.removeEventListener('abort', this.onAbort);
    }
  }

  /** Kills the helper and waits for it (an init that has not exec'd reads EOF and exits). */
  async kill(): Promise<void> {
    this.stage0.kill();
    this.stage0.closeChannel();
    await this.stage0.exit.catch(() => 0);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

function frame(type: number, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + (payload?.length ?? 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, payload?.length ?? 0, true);
  if (payload) out.set(payload, 8);
  return out;
}

async function drive(stage0: Stage0, plan: LaunchPlan, hooks: LaunchHooks, untilStart = false): Promise<number> {
  stage0.send(frame(MSG.PLAN, encodePlan(plan)));
  let pid = 0;
  let ready = false;
  for (;;) {
    const msg = await stage0.next();
    if (msg === null) {
      if (ready) return pid; // the control fd closed on exec: the program runs
      const code = await stage0.exit;
      throw new BrigError(
        'HELPER_PROTOCOL',
        `the native helper stopped before the container started (exit status ${code})`,
        {
          hint: 'run with --debug and report this',
        },
      );
    }
    switch (msg.type) {
      case MSG.PID:
        pid = msg.payload.readUInt32LE(0);
        stage0.send(frame(MSG.GO, (await hooks.onPid?.(pid)) ?? undefined));
        break;
      case MSG.HOOKS:
        stage0.send(frame(MSG.CONTINUE, (await hooks.onHooks?.()) ?? undefined));
        break;
      case MSG.READY:
        await hooks.onReady?.(pid);
        ready = true;
        stage0.send(frame(MSG.START));
        if (untilStart) return pid;
        break;
      case MSG.ERROR:
        if (msg.payload.length !== ERROR_RECORD_SIZE) break;
        throw toBrigError(decodeErrorRecord(msg.payload), plan.ops);
      default:
        throw new BrigError(
          'HELPER_PROTOCOL',
          `unexpected message ${msg.type} from the native helper (pid ${stage0.pid})`,
        );
    }
  }
}
