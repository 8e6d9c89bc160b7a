/**
 * Health checks as dockerd decides them: the request's Healthcheck merged with the image's
 * (daemon/commit.go merge), checked (daemon/container.go validateHealthCheck), and resolved
 * into what a container's monitor runs: the probe's argv and timings with docker's defaults
 * (daemon/health.go). The monitor runs the probe and keeps the state (native/monitor/health.c).
 */
import { BrigError } from '../../errors/index.js';
import type { HealthConfig } from '../containers/config.js';

const NS_PER_MS = 1e6;
/** docker's defaults: interval and timeout 30 s, start period 0, start interval 5 s, 3 retries. */
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 } as const;

/**
 * A request's Healthcheck over the image's: a field left 0 or empty takes the image's. Zero
 * fields are left out, as docker's JSON does (omitempty).
 */
export function mergeHealthcheck(req: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!req && !image) return undefined;
  const r = req ?? {};
  const i = req ? (image ?? {}) : (image ?? {});
  const out: HealthConfig = {};
  const test = r.Test?.length ? r.Test : i.Test;
  if (test?.length) out.Test = test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    const v = r[k] || i[k];
    if (v) out[k] = v;
  }
  return out;
}

/** dockerd's checks: durations 0 (default) or at least 1 ms, retries not negative, a known test. */
export function validateHealthcheck(h: HealthConfig | undefined): void {
  if (!h) return;
  const fields = [
    ['Interval', h.Interval],
    ['Timeout', h.Timeout],
    ['StartPeriod', h.StartPeriod],
    ['StartInterval', h.StartInterval],
  ] as const;
  for (const [name, v] of fields) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new BrigError('INVALID_ARGUMENT', `${name} in Healthcheck must be a number of nanoseconds`, { field: `Config.Healthcheck.${name}` });
    if (v && v < NS_PER_MS) throw new BrigError('INVALID_ARGUMENT', `${name} in Healthcheck cannot be less than 1ms`, { field: `Config.Healthcheck.${name}` });
  }
  if (h.Retries !== undefined && (!Number.isInteger(h.Retries) || h.Retries < 0)) {
    throw new BrigError('INVALID_ARGUMENT', 'Retries in Healthcheck cannot be negative', { field: 'Config.Healthcheck.Retries' });
  }
  const kind = h.Test?.[0];
  if (h.Test !== undefined && (!Array.isArray(h.Test) || h.Test.some((t) => typeof t !== 'string'))) {
    throw new BrigError('INVALID_ARGUMENT', 'Test in Healthcheck must be a list of strings', { field: 'Config.Healthcheck.Test' });
  }
  if (kind !== undefined && !['NONE', 'CMD', 'CMD-SHELL'].includes(kind)) {
    throw new BrigError('INVALID_ARGUMENT', `unknown Healthcheck Test type '${kind}': use CMD, CMD-SHELL or NONE`, { field: 'Config.Healthcheck.Test[0]' });
  }
  if ((kind === 'CMD' && h.Test!.length < 2) || (kind === 'CMD-SHELL' && h.Test!.length !== 2)) {
    throw new BrigError('INVALID_ARGUMENT', `Healthcheck Test ${kind} needs ${kind === 'CMD' ? 'a command' : 'exactly one command string'}`, { field: 'Config.Healthcheck.Test' });
  }
}

export interface Probe {
  args: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/** What the monitor runs, or undefined when there is no health check (none, or NONE). */
export function resolveProbe(h: HealthConfig | undefined, shell: string[] = ['/bin/sh', '-c']): Probe | undefined {
  const test = h?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  const args = test[0] === 'CMD-SHELL' ? [...shell, test[1]!] : test.slice(1);
  const ms = (ns: number | undefined, dflt: number) => (ns ? Math.max(1, Math.round(ns / NS_PER_MS)) : dflt);
  return {
    args,
    intervalMs: ms(h!.Interval, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: ms(h!.Timeout, HEALTH_DEFAULTS.timeoutMs),
    startPeriodMs: ms(h!.StartPeriod, HEALTH_DEFAULTS.startPeriodMs),
    startIntervalMs: ms(h!.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
    retries: h!.Retries || HEALTH_DEFAULTS.retries,
  };
}
