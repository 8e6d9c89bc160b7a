/**
 * The host's CPU time, the denominator of docker's CPU %: moby's readSystemCPUUsage
 * (daemon/stats_unix.go) over /proc/stat. The first seven fields of the aggregate "cpu"
 * line (user nice system idle iowait irq softirq; steal and guest are not counted, as in
 * docker) in clock ticks, converted to nanoseconds with USER_HZ = 100 (a constant on every
 * Linux architecture); online CPUs are the "cpuN" lines.
 */
import { BrigError } from '../../errors/index.js';

const NS_PER_TICK = 1e9 / 100;

export interface SystemCpu {
  /** nanoseconds */
  systemUsage: number;
  onlineCpus: number;
}

export function parseProcStat(text: string): SystemCpu {
  let systemUsage = 0;
  let onlineCpus = 0;
  // As glibc and docker: the cpu lines come first; stop at the first line that is not one.
  for (const line of text.split('\n')) {
    if (line.length < 4 || !line.startsWith('cpu')) break;
    if (line[3] === ' ') {
      const parts = line.trim().split(/\s+/);
      if (parts.length < 8) throw new BrigError('SYSTEM', `/proc/stat: the cpu line has ${parts.length - 1} fields, expected at least 7`, { path: '/proc/stat' });
      let ticks = 0;
      for (const f of parts.slice(1, 8)) {
        if (!/^\d+$/.test(f)) throw new BrigError('SYSTEM', `/proc/stat: ${JSON.stringify(f)} in the cpu line is not a number`, { path: '/proc/stat' });
        ticks += Number(f);
      }
      systemUsage = ticks * NS_PER_TICK;
    } else if (line[3]! >= '0' && line[3]! <= '9') {
      onlineCpus++;
    }
  }
  return { systemUsage, onlineCpus };
}
