/**
 * docker's `--change` (commit, import): Dockerfile instructions applied to a container
 * config. The instructions docker takes there: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
 * LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR; anything else is "<instruction> is not a valid change
 * command", as docker says.
 */
import path from 'node:path';
import { BrigError } from '../errors/index.js';
import { shellWords } from '../util/shell-words.js';
import type { ContainerConfig } from './manifest.js';
import type { HealthConfig } from '../engine/containers/config.js';
import { goDuration } from '../util/docker-filters.js';

const HEALTH_FLAGS: Record<string, keyof HealthConfig> = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval', retries: 'Retries' };

/**
 * The Dockerfile's HEALTHCHECK: `NONE`, or `[--interval=D] [--timeout=D] [--start-period=D]
 * [--start-interval=D] [--retries=N] CMD command` (exec or shell form), into the image
 * config's Healthcheck (durations in ns) as docker's builder records it.
 */
export function parseHealthcheck(rest: string): HealthConfig {
  let r = rest.trim();
  if (/^none$/i.test(r)) return { Test: ['NONE'] };
  const h: HealthConfig = {};
  for (let m; (m = /^--([a-z-]+)=(\S*)\s*/.exec(r)); r = r.slice(m[0].length)) {
    const key = HEALTH_FLAGS[m[1]!];
    if (!key) throw new BrigError('INVALID_ARGUMENT', `HEALTHCHECK: unknown flag: --${m[1]}`, { field: '--change' });
    if (key === 'Retries') {
      if (!/^\d+$/.test(m[2]!) || Number(m[2]) < 1) throw new BrigError('INVALID_ARGUMENT', `HEALTHCHECK: --retries must be at least 1 (not ${m[2]})`, { field: '--change' });
      h.Retries = Number(m[2]);
    } else {
      const ms = goDuration(m[2]!);
      if (ms === undefined || ms < 0) throw new BrigError('INVALID_ARGUMENT', `HEALTHCHECK: --${m[1]}: time: invalid duration "${m[2]}"`, { field: '--change' });
      h[key as 'Interval'] = Math.round(ms * 1e6);
    }
  }
  const cmd = /^cmd\b\s*(.*)$/is.exec(r);
  if (!cmd) throw new BrigError('INVALID_ARGUMENT', 'HEALTHCHECK: unknown type: must be CMD or NONE', { field: '--change' });
  const body = cmd[1]!;
  if (body === '') throw new BrigError('INVALID_ARGUMENT', 'HEALTHCHECK CMD needs a command', { field: '--change' });
  const exec = jsonArray(body);
  return { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', body], ...h };
}

/** Dockerfile words: whitespace-separated, "..." and '...' quoted, backslash escapes. */
function words(s: string, what: string): string[] {
  return shellWords(s, (quote) => new BrigError('INVALID_ARGUMENT', `${what}: unmatched ${quote}`, { field: '--change' }));
}

/** The exec form (a JSON array of strings), or undefined for the shell form. */
function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // The shell form, as the Dockerfile parser falls back to.
  }
  return undefined;
}

function pairs(rest: string, what: string, legacy: boolean): [string, string][] {
  const ws = words(rest, what);
  if (ws.length === 0) throw new BrigError('INVALID_ARGUMENT', `${what} requires at least one argument`, { field: '--change' });
  if (legacy && !ws[0]!.includes('=')) {
    // ENV NAME value with spaces
    const m = /^\s*(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw new BrigError('INVALID_ARGUMENT', `${what} must have two arguments`, { field: '--change' });
    return [[m[1]!, words(m[2]!, what).join(' ')]];
  }
  return ws.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new BrigError('INVALID_ARGUMENT', `${what}: "${w}" is not NAME=value`, { field: '--change' });
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Applies `changes` (one instruction each) to `base`; returns the new config. */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const c: ContainerConfig = structuredClone(base);
  for (const line of changes) {
    const m = /^\s*(\S+)\s*(.*?)\s*$/s.exec(line);
    if (!m) continue;
    const instr = m[1]!.toLowerCase();
    const rest = m[2]!;
    const what = instr.toUpperCase();
    switch (instr) {
      case 'cmd':
        c.Cmd = jsonArray(rest) ?? ['/bin/sh', '-c', rest];
        break;
      case 'entrypoint':
        c.Entrypoint = jsonArray(rest) ?? (rest === '' ? null : ['/bin/sh', '-c', rest]);
        // A new entrypoint drops the old command, as the Dockerfile rule says.
        if (!changes.some((l) => /^\s*cmd\b/i.test(l))) c.Cmd = null;
        break;
      case 'env': {
        let env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(rest, what, true)) env = [...env.filter((e) => e.split('=')[0] !== k), `${k}=${v}`];
        c.Env = env;
        break;
      }
      case 'label':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest, what, false)) };
        break;
      case 'expose': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of words(rest, what)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new BrigError('INVALID_ARGUMENT', `invalid containerPort: ${p}`, { field: '--change' });
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'user':
        if (rest === '') throw new BrigError('INVALID_ARGUMENT', 'USER requires exactly one argument', { field: '--change' });
        c.User = rest;
        break;
      case 'workdir':
        if (rest === '') throw new BrigError('INVALID_ARGUMENT', 'WORKDIR requires exactly one argument', { field: '--change' });
        c.WorkingDir = path.posix.resolve(c.WorkingDir || '/', rest);
        break;
      case 'volume': {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of jsonArray(rest) ?? words(rest, what)) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'stopsignal':
        c.StopSignal = rest;
        break;
      case 'healthcheck':
        c.Healthcheck = parseHealthcheck(rest);
        break;
      case 'onbuild':
        c.OnBuild = [...(c.OnBuild ?? []), rest];
        break;
      default:
        throw new BrigError('INVALID_ARGUMENT', `${instr} is not a valid change command`, { field: '--change' });
    }
  }
  return c;
}
