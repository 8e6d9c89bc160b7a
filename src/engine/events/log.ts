/**
 * The event log: what happened to containers and images, for `brig events` (docker's
 * GET /events), shared by every brig process and every container monitor.
 *
 * The model. brig has no daemon to hold events in memory, so they live in one append-only
 * file under the engine's data root (`events/events.jsonl`), one JSON event per line
 * (message.ts). Anyone who does something appends its event there: a CLI process for
 * create, start, stop, rm, pull, ...; a container's monitor for `die` and `oom`, which no
 * CLI sees (the CLI that started the container may be long gone). Readers replay the file
 * and then follow it as it grows, which is how `brig events` streams.
 *
 * Why appends never mix: each event is one write(2) of one whole line (at most LINE_MAX
 * bytes) on a file descriptor opened with O_APPEND. The kernel moves to the end and writes
 * under the inode's lock, so concurrent writers' lines land one after another, never
 * interleaved. A line is only ever torn if its writer is SIGKILLed inside that write (the
 * kernel may stop between two pages); a reader skips the torn piece and still finds the
 * next event glued behind it (parseEventLine).
 *
 * Rotation. The file is bounded: an appender that finds it past the size limit renames it
 * to `events.jsonl.1` (replacing the older one), so at most two files are kept. See
 * FileEventLog for why that is safe with concurrent appenders and followers.
 */
import type { EventMessage, NewEvent } from './message.js';

export interface EventQuery {
  /** Unix nanoseconds: replay history from here. Without it only new events come (docker's rule). */
  since?: bigint;
  /** Unix nanoseconds: stop here; in the past, only history is read. Without it, follow for ever. */
  until?: bigint;
  signal?: AbortSignal;
}

export interface EventLog {
  /** Appends one event, stamped now. Never throws: an event that cannot be written must not fail the work it reports. */
  append(e: NewEvent): void;
  /** Events in file order within [since, until]; with no until, follows the log until `signal` aborts. */
  read(q: EventQuery): AsyncIterable<EventMessage>;
  /** Where a container monitor appends the events it writes (the file must stay this path). */
  monitorPath(): string;
}
