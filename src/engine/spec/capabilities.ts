/**
 * A container's capability set, by docker's rules (moby oci/caps TweakCapabilities):
 * docker's default 14; --cap-add/--cap-drop by name with or without "CAP_", any case;
 * "ALL" in cap-add gives every capability but those dropped, "ALL" in cap-drop keeps only
 * those added; --privileged gives every capability. "Every capability" is what brig itself
 * holds: a capability the host withholds from brig cannot be handed on, so asking for one
 * by name is an error and ALL/--privileged say which are missing.
 */
import { BrigError } from '../../errors/index.js';
import { CAPABILITIES } from '../../runtime/linux/constants.js';

/** docker's default set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL". */
export function normalizeCapability(name: string, field: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!(CAPABILITIES as readonly string[]).includes(cap)) throw new BrigError('INVALID_ARGUMENT', `unknown capability: "${cap}"`, { field });
  return cap;
}

export interface CapabilityRequest {
  privileged: boolean;
  add: string[];
  drop: string[];
}

/**
 * The capability names a container's bounding, effective and permitted sets get, and the
 * warnings to show (capabilities ALL or --privileged could not include).
 */
export function containerCapabilities(req: CapabilityRequest, held: readonly string[]): { caps: string[]; warnings: string[] } {
  const add = req.add.map((c) => normalizeCapability(c, 'HostConfig.CapAdd'));
  const drop = req.drop.map((c) => normalizeCapability(c, 'HostConfig.CapDrop'));
  const all = [...CAPABILITIES] as string[];
  const missing = (want: string[]) => want.filter((c) => !held.includes(c));
  const warnAll = (what: string) => {
    const lacking = missing(all.filter((c) => !drop.includes(c)));
    return lacking.length ? [`${what}: the host withholds ${lacking.join(', ')} from brig, so the container cannot have ${lacking.length === 1 ? 'it' : 'them'}`] : [];
  };
  if (req.privileged) return { caps: all.filter((c) => held.includes(c)), warnings: warnAll('--privileged') };
  let caps: string[];
  let warnings: string[] = [];
  if (add.includes('ALL')) {
    caps = all.filter((c) => held.includes(c) && !drop.includes(c));
    warnings = warnAll('--cap-add ALL');
  } else {
    const lacking = missing(add);
    if (lacking.length) {
      throw new BrigError('INVALID_ARGUMENT', `--cap-add ${lacking.join(', ')}: the host withholds ${lacking.length === 1 ? 'this capability' : 'these capabilities'} from brig, so no container can have ${lacking.length === 1 ? 'it' : 'them'}`, {
        field: 'HostConfig.CapAdd',
        hint: 'CapBnd in /proc/self/status lists what brig holds',
      });
    }
    const base = drop.includes('ALL') ? [] : DOCKER_DEFAULT_CAPS.filter((c) => !drop.includes(c) && held.includes(c));
    caps = [...base, ...add];
  }
  return { caps: [...new Set(caps)], warnings };
}
