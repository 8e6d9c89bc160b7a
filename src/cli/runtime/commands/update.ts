
import path from 'node:path';
import { BrigError } from '../../../errors/index.js';
import type { LinuxResources } from '../../../runtime/cgroups/index.js';
import { obj } from '../../../runtime/spec/check.js';
import type { Command } from '../command.js';
import { readTextSync } from '../../../util/read-text.js';

/** runc's memory syntax: bytes, or a number with k/m/g/t (binary, optional "b"); -1 = unlimited. */
export function parseBytes(v: string, flag: string): number {
  const m = /^(-1|\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new BrigError('INVALID_ARGUMENT', `--${flag}: "${v}" is not a size (e.g. 512m, 2g, -1)`, { field: `--${flag}` });
  if (m[1] === '-1') return -1;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

function int(v: string, flag: string, min = -1): number {
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw new BrigError('INVALID_ARGUMENT', `--${flag}: "${v}" is not a valid number`, { field: `--${flag}` });
  return Number(v);
}

/** Builds LinuxResources from runc's update flags; only the given ones are set. */
export function resourcesFromFlags(flags: Record<string, unknown>, cwd: string, stdin: () => string): LinuxResources {
  const res: LinuxResources = {};
  const file = flags.resources as string | undefined;
  if (file !== undefined) {
    const text = file === '-' ? stdin() : readTextSync(path.resolve(cwd, file));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new BrigError('INVALID_JSON', `--resources ${file}: invalid JSON: ${(e as Error).message}`, { path: file });
    }
    Object.assign(res, obj(parsed, 'resources') as LinuxResources);
  }
  const s = (k: string) => flags[k] as string | undefined;
  const memory = { ...res.memory };
  if (s('memory') !== undefined) memory.limit = parseBytes(s('memory')!, 'memory');
  if (s('memory-reservation') !== undefined) memory.reservation = parseBytes(s('memory-reservation')!, 'memory-reservation');
  if (s('memory-swap') !== undefined) memory.swap = parseBytes(s('memory-swap')!, 'memory-swap');
  if (s('kernel-memory') !== undefined) memory.kernel = parseBytes(s('kernel-memory')!, 'kernel-memory');
  if (s('kernel-memory-tcp') !== undefined) memory.kernelTCP = parseBytes(s('kernel-memory-tcp')!, 'kernel-memory-tcp');
  if (Object.keys(memory).length) res.memory = memory;
  const cpu = { ...res.cpu };
  if (s('cpu-share') !== undefined) cpu.shares = int(s('cpu-share')!, 'cpu-share', 0);
  if (s('cpu-quota') !== undefined) cpu.quota = int(s('cpu-quota')!, 'cpu-quota');
  if (s('cpu-period') !== undefined) cpu.period = int(s('cpu-period')!, 'cpu-period', 0);
  if (s('cpu-burst') !== undefined) cpu.burst = int(s('cpu-burst')!, 'cpu-burst', 0);
  if (s('cpu-rt-period') !== undefined) cpu.realtimePeriod = int(s('cpu-rt-period')!, 'cpu-rt-period', 0);
  if (s('cpu-rt-runtime') !== undefined) cpu.realtimeRuntime = int(s('cpu-rt-runtime')!, 'cpu-rt-runtime');
  if (s('cpuset-cpus') !== undefined) cpu.cpus = s('cpuset-cpus')!;
  if (s('cpuset-mems') !== undefined) cpu.mems = s('cpuset-mems')!;
  if (Object.keys(cpu).length) res.cpu = cpu;
  if (s('pids-limit') !== undefined) res.pids = { limit: int(s('pids-limit')!, 'pids-limit') };
  if (s('blkio-weight') !== undefined) res.blockIO = { ...res.blockIO, weight: int(s('blkio-weight')!, 'blkio-weight', 0) };
  for (const rdt of ['l3-cache-schema', 'mem-bw-schema']) {
    if (s(rdt) !== undefined) throw new BrigError('UNSUPPORTED_FIELD', `--${rdt}: Intel RDT is not supported`, { field: `--${rdt}` });
  }
  return res;
}

const str = { kind: 'string' as const };

export const update: Command = {
  name: 'update',
  usage: 'update [--resources FILE|-] [--memory N] [--cpu-quota N] [--pids-limit N] ... ID',
  summary: "change a running container's resource limits",
  flags: {
    resources: { kind: 'string', short: 'r', help: 'LinuxResources JSON file, - for stdin' },
    memory: str,
    'memory-reservation': str,
    'memory-swap': str,
    'kernel-memory': str,
    'kernel-memory-tcp': str,
    'cpu-share': str,
    'cpu-quota': str,
    'cpu-period': str,
    'cpu-burst': str,
    'cpu-rt-period': str,
    'cpu-rt-runtime': str,
    'cpuset-cpus': str,
    'cpuset-mems': str,
    'pids-limit': str,
    'blkio-weight': str,
    'l3-cache-schema': str,
    'mem-bw-schema': str,
  },
  async run(ctx, { flags, rest }) {
    if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', 'update needs exactly one container id');
    const res = resourcesFromFlags(flags, ctx.cwd, () => readTextSync(0));
    if (Object.keys(res).length === 0) throw new BrigError('INVALID_ARGUMENT', 'update: nothing to change (give --resources or a limit flag)');
    await ctx.runtime.update(rest[0]!, res);
    return 0;
  },
};
