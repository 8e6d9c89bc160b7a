/**
 * The engine container's state machine, docker's states and transitions, written once:
 * every verb asks `transition(current, action)` for the next state and gets a BrigError with
 * docker's wording when the action is not allowed. The store applies the answer under the
 * container's lock; nothing else changes a status.
 *
 *   created ──start──▶ running ──pause──▶ paused ──unpause──▶ running
 *      │                 │  ▲                │
 *      │               exit│  └──restarted── restarting ◀──exit (policy says restart)
 *      │                 ▼                   │
 *      └───────────────▶ exited ◀────exit────┘ (policy says no, or the user stopped it)
 *   created | exited | dead ──remove──▶ removing ──▶ (gone)      removing ──failed──▶ dead
 *   (with force, running | paused | restarting may be removed too: the engine kills first)
 */
import { BrigError } from '../../errors/index.js';
import { humanDuration } from '../../util/human-duration.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export type ContainerAction =
  | 'start'
  | 'exit'
  | 'restart-wait'
  | 'restarted'
  | 'pause'
  | 'unpause'
  | 'stop'
  | 'kill'
  | 'remove'
  | 'remove-force'
  | 'remove-failed'
  | 'rename'
  | 'exec';

const RUNNING_LIKE: ContainerStatus[] = ['running', 'paused', 'restarting'];

/** Next state per action; an action absent for a state is refused. `null`: allowed, state unchanged. */
const TABLE: Record<ContainerStatus, Partial<Record<ContainerAction, ContainerStatus | null>>> = {
  created: { start: 'running', remove: 'removing', 'remove-force': 'removing', rename: null, exit: 'exited', stop: null },
  running: { exit: 'exited', 'restart-wait': 'restarting', pause: 'paused', stop: null, kill: null, 'remove-force': 'removing', rename: null, exec: null, start: null },
  paused: { unpause: 'running', exit: 'exited', stop: null, kill: null, 'remove-force': 'removing', rename: null },
  restarting: { restarted: 'running', exit: 'exited', stop: null, kill: null, 'remove-force': 'removing', rename: null },
  exited: { start: 'running', remove: 'removing', 'remove-force': 'removing', rename: null, stop: null },
  dead: { remove: 'removing', 'remove-force': 'removing' },
  removing: { 'remove-failed': 'dead', exit: null },
};

/** docker's messages, so scripts that match on them keep working. */
function refusal(status: ContainerStatus, action: ContainerAction, name: string): BrigError {
  const code = 'CONTAINER_STATE';
  switch (action) {
    case 'remove':
      return new BrigError(code, `cannot remove container "${name}": container is ${status}: stop the container before removing or force remove`, { hint: 'brig rm -f' });
    case 'pause':
      return status === 'paused'
        ? new BrigError(code, `container ${name} is already paused`)
        : new BrigError(code, `container ${name} is not running`);
    case 'unpause':
      return new BrigError(code, `container ${name} is not paused`);
    case 'kill':
    case 'exec':
      return status === 'paused'
        ? new BrigError(code, `container ${name} is paused, unpause the container before exec`)
        : new BrigError('CONTAINER_NOT_RUNNING', `container ${name} is not running`);
    case 'start':
      return new BrigError(code, `cannot start container ${name}: container is ${status}`, status === 'paused' ? { hint: 'brig unpause' } : {});
    default:
      return new BrigError(code, `container ${name} is ${status}: cannot ${action}`);
  }
}

/** The state after `action`, or the same state when the action changes none; throws when refused. */
export function transition(status: ContainerStatus, action: ContainerAction, name: string): ContainerStatus {
  const next = TABLE[status][action];
  if (next === undefined) throw refusal(status, action, name);
  return next ?? status;
}

export function isRunningLike(status: ContainerStatus): boolean {
  return RUNNING_LIKE.includes(status);
}

/** docker's ps STATUS column: "Up 3 minutes", "Exited (0) 5 seconds ago", "Created", ... */
export function humanStatus(
  s: { status: ContainerStatus; exitCode: number; startedAt?: string; finishedAt?: string; health?: string },
  now: Date,
): string {
  const since = (iso?: string) => humanDuration(now.getTime() - (iso ? Date.parse(iso) : now.getTime()));
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      // docker's State.String: "(health: starting)", else the status alone.
      return `Up ${since(s.startedAt)}${s.health ? ` (${s.health === 'starting' ? 'health: starting' : s.health})` : ''}`;
    case 'paused':
      return `Up ${since(s.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${since(s.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'exited':
      return `Exited (${s.exitCode}) ${since(s.finishedAt)} ago`;
    case 'dead':
      return 'Dead';
  }
}
