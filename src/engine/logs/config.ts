/**
 * A container's log configuration: `--log-driver`/`--log-opt` merged with the engine's
 * defaults (daemon.json's `log-driver`/`log-opts`) by docker's rule, checked with docker's
 * names, units and limits, and resolved into what the monitor's plan needs.
 *
 * Drivers: json-file (docker's default), local, none. Options as docker's drivers take
 * them (moby daemon/logger/jsonfilelog, local, loggerutils):
 *   json-file  max-size (go-units FromHumanSize: decimal, 10m = 10,000,000 bytes; no
 *              rotation without it), max-file (>= 1, default 1), compress (needs max-size and
 *              max-file >= 2), labels, labels-regex, env, env-regex, tag
 *   local      the same, with docker's defaults max-size 20 MiB, max-file 5, compress true;
 *              compress needs max-file >= 2
 *   none       no options (docker's CLI: "invalid logging opts for driver none")
 * Every driver but none also takes docker's `mode` (blocking only: the monitor writes as the
 * container writes) and the `cache-*` options of docker's dual logging, which change nothing
 * for drivers that read their own files (docker ignores them there too). Anything else is an
 * error naming the option; no option is ever ignored.
 */
import { BrigError } from '../../errors/index.js';
import { checkTag, extraAttributes, goRegExp, type TagInfo } from './attrs.js';
import type { LogConfigRequest } from '../containers/config.js';

/** What the monitor's plan needs to write a container's log. */
export interface LogConfig {
  driver: 'json-file' | 'local' | 'none';
  /** Bytes; 0: never rotate. */
  maxSize: number;
  /** Files kept, the current one included. */
  maxFiles: number;
  /** Rotated files are gzipped (docker's compress). Absent in records made before brig had it. */
  compress?: boolean;
  /** docker's attrs in every record (labels, env, tag options); absent or empty: none. */
  attrs?: Record<string, string>;
}

/** docker's HostConfig.LogConfig (the request shape lives with the other create shapes). */
export type { LogConfigRequest };

export const DEFAULT_LOG_DRIVER = 'json-file';

const DRIVERS = ['json-file', 'local', 'none'] as const;
const ATTR_OPTS = ['labels', 'labels-regex', 'env', 'env-regex', 'tag'];
const FILE_OPTS = ['max-size', 'max-file', 'compress', ...ATTR_OPTS];
/** Options docker takes for every driver that is not none (logger.builtInLogOpts and the cache's). */
const COMMON_OPTS = ['mode', 'max-buffer-size', 'cache-disabled', 'cache-max-size', 'cache-max-file', 'cache-compress'];

type Field = (key: string) => string;
const cliField: Field = (key) => `--log-opt ${key}`;

function bad(field: string, why: string, hint?: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', `${field}: ${why}`, { field, ...(hint ? { hint } : {}) });
}

/** go-units FromHumanSize: a number, an optional space, then b, or k/m/g/t/p with an optional b or ib; decimal multiples. */
export function fromHumanSize(value: string, field: string): number {
  const m = /^(\d*\.?\d*)(?: ?([kmgtp]?)(i?b?))?$/i.exec(value);
  const num = m && m[1] !== '' && m[1] !== '.' ? Number(m[1]) : NaN;
  const unit = (m?.[2] ?? '').toLowerCase();
  const rest = (m?.[3] ?? '').toLowerCase();
  if (Number.isNaN(num) || (unit === '' && rest !== '' && rest !== 'b') || (unit !== '' && rest === 'i')) {
    throw bad(field, `invalid size: '${value}'`, 'e.g. 10m (10,000,000 bytes), 512k, 1g');
  }
  return Math.trunc(num * 1000 ** (unit ? 'kmgtp'.indexOf(unit) + 1 : 0));
}

/** strconv.Atoi: an optional sign and decimal digits. */
function atoi(value: string, field: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw bad(field, `invalid number "${value}"`);
  return Number(value);
}

/** strconv.ParseBool. */
function parseBool(value: string, field: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw bad(field, `invalid boolean "${value}"`, 'true or false');
}

function driverOf(type: string, field: string): LogConfig['driver'] {
  if ((DRIVERS as readonly string[]).includes(type)) return type as LogConfig['driver'];
  throw new BrigError('UNSUPPORTED_FIELD', `${field}: "${type}" is not supported`, { field, hint: 'json-file, local or none' });
}

/** Checks a driver's options and what they come to, attrs aside. */
function parseOptions(type: string, opts: Record<string, string>, field: Field, driverField = '--log-driver'): Omit<LogConfig, 'attrs'> {
  const driver = driverOf(type, driverField);
  const keys = Object.keys(opts);
  if (driver === 'none') {
    if (keys.length) throw bad(field(keys[0]!), 'invalid logging opts for driver none', 'the none driver takes no options');
    return { driver, maxSize: 0, maxFiles: 1 };
  }
  for (const key of keys) {
    if (!FILE_OPTS.includes(key) && !COMMON_OPTS.includes(key)) {
      throw bad(field(key), `unknown log opt '${key}' for ${driver} log driver`, [...FILE_OPTS, 'mode'].join(', '));
    }
  }
  const mode = opts.mode ?? '';
  if (mode === 'non-blocking') {
    throw new BrigError('UNSUPPORTED_FIELD', `${field('mode')}: non-blocking is not supported: the monitor writes the log as the container writes`, { field: field('mode') });
  }
  if (mode !== '' && mode !== 'blocking') throw bad(field('mode'), `logging mode not supported: ${mode}`, 'blocking');
  if (opts['max-buffer-size'] !== undefined) throw bad(field('max-buffer-size'), "max-buffer-size option is only supported with 'mode=non-blocking'");
  if (opts['cache-disabled'] !== undefined) parseBool(opts['cache-disabled'], field('cache-disabled'));
  if (opts['cache-max-size'] !== undefined) fromHumanSize(opts['cache-max-size'], field('cache-max-size'));
  if (opts['cache-max-file'] !== undefined) atoi(opts['cache-max-file'], field('cache-max-file'));
  if (opts['cache-compress'] !== undefined) parseBool(opts['cache-compress'], field('cache-compress'));
  for (const key of ['labels-regex', 'env-regex']) if (opts[key]) goRegExp(opts[key], field(key));
  if (opts.tag) checkTag(opts.tag, field('tag'));

  const size = opts['max-size'] !== undefined ? fromHumanSize(opts['max-size'], field('max-size')) : undefined;
  const files = opts['max-file'] !== undefined ? atoi(opts['max-file'], field('max-file')) : undefined;
  const compress = opts.compress !== undefined ? parseBool(opts.compress, field('compress')) : undefined;
  if (driver === 'json-file') {
    if (size !== undefined && size <= 0) throw bad(field('max-size'), 'max-size must be a positive number');
    if (files !== undefined && files < 1) throw bad(field('max-file'), 'max-file cannot be less than 1');
    const maxFiles = files ?? 1;
    if (compress && (maxFiles === 1 || size === undefined)) {
      throw bad(field('compress'), 'compress cannot be true when max-file is less than 2 or max-size is not set');
    }
    return { driver, maxSize: size ?? 0, maxFiles, compress: compress ?? false };
  }
  // local: docker's defaults, and max-size 0 rotates before every write (a size of 1 here).
  if (files !== undefined && files < 0) throw bad(field('max-file'), 'max-file must not be negative');
  const maxFiles = files ?? 5;
  const gz = compress ?? true;
  if (gz && maxFiles <= 1) throw bad(field(compress === undefined ? 'max-file' : 'compress'), 'compression cannot be enabled when max file count is 1', 'add --log-opt compress=false');
  return { driver, maxSize: size === undefined ? 20 * 1024 * 1024 : Math.max(size, 1), maxFiles: Math.max(maxFiles, 1), compress: gz };
}

/** Checks the engine's default log driver and options (daemon.json), naming them as `field` and `driverField` do. */
export function checkLogDefaults(defaults: LogConfigRequest, field: Field, driverField: string): void {
  parseOptions(defaults.Type || DEFAULT_LOG_DRIVER, defaults.Config ?? {}, field, driverField);
}

/**
 * A container's log configuration from what it asked for and the engine's defaults.
 * docker's rule (daemon.mergeAndVerifyLogConfig): the driver defaults to the engine's, and
 * the engine's options fill in only for a container whose driver is the engine's driver.
 * `hostConfig` is what inspect shows as HostConfig.LogConfig: the request so merged, not
 * the driver's own defaults. `ctx.container` is needed when a `tag` option is set.
 */
export function resolveLogConfig(
  requested: LogConfigRequest,
  defaults: LogConfigRequest,
  ctx: { labels: Record<string, string>; env: string[]; container?: TagInfo },
): { log: LogConfig; hostConfig: { Type: string; Config: Record<string, string> } } {
  const defaultType = defaults.Type || DEFAULT_LOG_DRIVER;
  const type = requested.Type || defaultType;
  const config: Record<string, string> = { ...requested.Config };
  if (type === defaultType) for (const [k, v] of Object.entries(defaults.Config ?? {})) if (!Object.hasOwn(config, k)) config[k] = v;
  const log: LogConfig = parseOptions(type, config, cliField);
  const attrs = log.driver === 'none' ? {} : extraAttributes(config, ctx, cliField);
  return { log: { ...log, ...(Object.keys(attrs).length ? { attrs } : {}) }, hostConfig: { Type: type, Config: config } };
}
