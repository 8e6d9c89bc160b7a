/**
 * One container's side of `brig stats`, as docker's CLI `collect` goroutine: it follows the
 * engine's stats stream (or takes its one sample) and keeps the latest numbers; when none
 * has come for two seconds the numbers go and "--" shows, until the next one arrives.
 */
import type { Engine } from '../../../../engine/engine.js';
import { blankEntry, invalidEntry, type StatsEntry, statsEntry } from '../../../format/stats.js';

/** docker's collect: a sample overdue by this long is shown as "--". */
const TIMEOUT_MS = 2000;

export class StatsCollector {
  private entry: StatsEntry;
  private lastUpdate = Date.now();
  private ended = false;
  /** Why the stream failed (an unknown container, ...): its numbers show as "--". */
  error: Error | undefined;
  /** Settles once the first sample came, or the stream failed or ended. */
  readonly first: Promise<void>;
  private readonly abort = new AbortController();

  constructor(engine: Engine, readonly container: string, stream: boolean) {
    this.entry = blankEntry(container);
    let settle!: () => void;
    this.first = new Promise((resolve) => {
      settle = resolve;
    });
    void (async () => {
      try {
        for await (const s of engine.containerStats(container, { stream, signal: this.abort.signal })) {
          this.entry = statsEntry(container, s);
          this.lastUpdate = Date.now();
          settle();
        }
      } catch (e) {
        if (!this.abort.signal.aborted) this.error = e as Error;
      } finally {
        this.ended = true;
        settle();
      }
    })();
  }

  /** The numbers to print now. */
  current(now = Date.now()): StatsEntry {
    if (this.error || (!this.ended && now - this.lastUpdate > TIMEOUT_MS)) return invalidEntry(this.entry);
    return this.entry;
  }

  stop(): void {
    this.abort.abort();
  }
}
