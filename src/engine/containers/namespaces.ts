/**
 * --ipc, --pid and --uts `container:NAME`: the other container's namespaces, joined by path
 * (/proc/<its init>/ns/<type>) in the spec the runtime runs. The path names a process, so it
 * is put in at each start (as --network container: is, network/service.ts), never kept from
 * the last one; the other container must be running then.
 *
 * A shared IPC namespace shares System V IPC and POSIX message queues; /dev/shm, a mount,
 * is shared at the start too, from the donor's host tmpfs (shared-shm.ts).
 */
import { BrigError } from '../../errors/index.js';
import type { Spec } from '../../runtime/spec/types.js';
import type { HostConfig } from './config.js';

/** A container another one names in a mode: its id, name and init pid (0 when not running). */
export interface NamespaceOwner {
  id: string;
  name: string;
  pid: number;
}

const MODES = [
  { field: 'IpcMode', type: 'ipc', what: 'IPC namespace' },
  { field: 'PidMode', type: 'pid', what: 'PID namespace' },
  { field: 'UTSMode', type: 'uts', what: 'UTS namespace' },
] as const;

/** The `container:` modes of a HostConfig: which namespace, from which container (as given). */
export function sharedNamespaces(h: HostConfig): { field: (typeof MODES)[number]['field']; type: 'ipc' | 'pid' | 'uts'; what: string; ref: string }[] {
  return MODES.flatMap((m) => {
    const v = h[m.field];
    return typeof v === 'string' && v.startsWith('container:') ? [{ ...m, ref: v.slice('container:'.length) }] : [];
  });
}

/**
 * The spec with the other containers' namespaces in it. `lookup`
 * finds a container by name or id (throwing when there is none); a container that is not
 * running is refused, naming the field.
 */
export async function joinNamespaces(spec: Spec, h: HostConfig, self: string, lookup: (ref: string) => Promise<NamespaceOwner>): Promise<Spec> {
  const joins = sharedNamespaces(h);
  if (!joins.length) return spec;
  const linux = { ...spec.linux, namespaces: [...(spec.linux?.namespaces ?? [])] };
  for (const j of joins) {
    const owner = await lookup(j.ref);
    if (owner.id === self) throw new BrigError('INVALID_ARGUMENT', `cannot join own ${j.what}`, { field: `HostConfig.${j.field}` });
    if (!owner.pid) {
      throw new BrigError('CONTAINER_NOT_RUNNING', `cannot join ${j.what} of a non running container: ${owner.name}`, { field: `HostConfig.${j.field}`, hint: `start ${owner.name} first` });
    }
    const ns = `/proc/${owner.pid}/ns/${j.type}`;
    linux.namespaces = linux.namespaces.map((n) => (n.type === j.type ? { type: j.type, path: ns } : n));
  }
  return { ...spec, linux };
}
