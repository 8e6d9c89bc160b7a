/**
 * The engine's configuration file, in the shape of docker's daemon.json, read from
 * `$BRIG_CONFIG` or /etc/brig/daemon.json. Keys brig takes so far:
 *
 *   "log-driver": "json-file" | "local" | "none"   the default for containers
 *   "log-opts":   { "max-size": "10m", ... }       its default options (docker's rule: they
 *                                                  apply only to containers that use the
 *                                                  default driver; see logs/config.ts)
 *
 * A key joins by adding a row to KEYS: its parser checks the value (naming the key and the
 * file when it is wrong) and writes it into EngineConfig. An unknown key is an error, as
 * dockerd refuses one, so a typo is never silently a default.
 */

import { BrigError, hasErrno } from '../errors/index.js';
import { checkLogDefaults, type LogConfigRequest } from './logs/config.js';
import { readTextSync } from '../util/read-text.js';

export const DEFAULT_CONFIG_FILE = '/etc/brig/daemon.json';

export interface EngineConfig {
  /** Where it was read from (none: the defaults). */
  file?: string;
  /** daemon.json's log-driver and log-opts, as docker's HostConfig.LogConfig. */
  log: LogConfigRequest;
}

/** Reads one key's value into the config; `invalid(why, sub)` names the key (or key.sub) and the file. */
type KeyParser = (value: unknown, invalid: (why: string, sub?: string) => BrigError, into: EngineConfig) => void;

const KEYS: Record<string, KeyParser> = {
  'log-driver': (v, invalid, into) => {
    if (typeof v !== 'string') throw invalid('must be a string');
    into.log.Type = v;
  },
  'log-opts': (v, invalid, into) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('must be an object of strings');
    for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') throw invalid('must be a string', k);
    into.log.Config = { ...(v as Record<string, string>) };
  },
};

/** Checks what the keys say together, once each is read. */
function check(config: EngineConfig, file: string): void {
  try {
    checkLogDefaults(config.log, (k) => `log-opts.${k} in ${file}`, `log-driver in ${file}`);
  } catch (e) {
    if (e instanceof BrigError && e.code === 'INVALID_ARGUMENT') throw new BrigError('INVALID_CONFIG', e.message, { path: file, ...(e.hint ? { hint: e.hint } : {}), cause: e });
    throw e;
  }
}

export function parseEngineConfig(text: string, file: string): EngineConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BrigError('INVALID_JSON', `${file}: ${(e as Error).message}`, { path: file });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BrigError('INVALID_CONFIG', `${file}: must hold a JSON object`, { path: file });
  const config: EngineConfig = { file, log: {} };
  for (const [key, value] of Object.entries(raw)) {
    const parse = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (!parse) throw new BrigError('INVALID_CONFIG', `unknown key "${key}" in ${file}`, { path: file, field: key, hint: `brig takes ${Object.keys(KEYS).join(', ')}` });
    parse(value, (why, sub) => new BrigError('INVALID_CONFIG', `${key}${sub ? `.${sub}` : ''} in ${file}: ${why}`, { path: file, field: key }), config);
  }
  check(config, file);
  return config;
}

/** The configuration in `file`; a missing file is the defaults unless it was asked for by name. */
export function loadEngineConfig(file: string, opts: { required?: boolean } = {}): EngineConfig {
  let text: string;
  try {
    text = readTextSync(file);
  } catch (e) {
    if (hasErrno(e, 'ENOENT') && !opts.required) return { log: {} };
    throw new BrigError('INVALID_CONFIG', `cannot read the engine configuration ${file}: ${(e as Error).message}`, { path: file, cause: e });
  }
  return parseEngineConfig(text, file);
}
