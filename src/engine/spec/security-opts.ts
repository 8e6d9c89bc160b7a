/**
 * HostConfig.SecurityOpt, by docker's rules (moby daemon parseSecurityOpt): each entry is
 * KEY=VALUE (KEY:VALUE is docker's older spelling); `no-new-privileges` alone means true.
 * What this host cannot do is refused or said plainly, never silently dropped:
 *   - seccomp=unconfined | builtin | <profile JSON>  (the CLI reads seccomp=FILE into JSON, as docker's)
 *   - no-new-privileges[=true|false]
 *   - systempaths=unconfined  (no masked or read-only /proc and /sys paths)
 *   - apparmor=unconfined; any other profile is refused: this host has no AppArmor
 *   - label=...: this host has no SELinux, so labels change nothing (a warning says so)
 */
import { BrigError } from '../../errors/index.js';

export interface SecurityOptions {
  /** 'default' (docker's profile), 'unconfined', or a docker profile's JSON. */
  seccomp: 'default' | 'unconfined' | { profile: string };
  noNewPrivileges: boolean;
  unmaskSystemPaths: boolean;
  warnings: string[];
}

const BOOL: Record<string, boolean> = { true: true, '1': true, false: false, '0': false };

export function parseSecurityOpts(opts: readonly string[], hostHasAppArmor = false): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'default', noNewPrivileges: false, unmaskSystemPaths: false, warnings: [] };
  opts.forEach((opt, i) => {
    const field = `HostConfig.SecurityOpt[${i}]`;
    const bad = () => new BrigError('INVALID_ARGUMENT', `invalid --security-opt ${i + 1}: "${opt}"`, { field, hint: 'no-new-privileges, seccomp=unconfined|FILE, systempaths=unconfined, apparmor=unconfined, label=...' });
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      return;
    }
    const m = /^([a-z-]+)[=:](.*)$/s.exec(opt);
    if (!m) throw bad();
    const [, key, value] = m as unknown as [string, string, string];
    switch (key) {
      case 'no-new-privileges': {
        const b = BOOL[value];
        if (b === undefined) throw new BrigError('INVALID_ARGUMENT', `invalid --security-opt 2: "${opt}": no-new-privileges takes true or false`, { field });
        out.noNewPrivileges = b;
        return;
      }
      case 'seccomp':
        out.seccomp = value === 'unconfined' ? 'unconfined' : value === 'builtin' || value === '' ? 'default' : { profile: value };
        return;
      case 'systempaths':
        if (value !== 'unconfined') throw bad();
        out.unmaskSystemPaths = true;
        return;
      case 'apparmor':
        if (value === 'unconfined') return;
        if (!hostHasAppArmor) {
          throw new BrigError('UNSUPPORTED_FIELD', `--security-opt apparmor=${value}: AppArmor is not enabled on this host, so the profile cannot be applied`, { field, hint: 'leave it out, or apparmor=unconfined' });
        }
        throw new BrigError('UNSUPPORTED_FIELD', `--security-opt apparmor=${value}: AppArmor profiles are not supported yet`, { field });
      case 'label':
        out.warnings.push(`--security-opt ${opt}: this host has no SELinux, so SELinux labels have no effect`);
        return;
      default:
        throw bad();
    }
  });
  return out;
}
