/**
 * `--log-driver` and `--log-opt`, with docker's names and rules: json-file's max-size takes
 * docker's size units (k, m, g; powers of 1024, as docker's units.RAMInBytes), max-file
 * needs max-size and is at least 1. An option this build does not carry out is refused,
 * never ignored.
 */
import { BrigError } from '../../errors/index.js';
import type { LogConfig } from './plan.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

export function parseSize(value: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?b?)$/i.exec(value.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new BrigError('INVALID_ARGUMENT', `${field}: invalid size "${value}"`, { field, hint: 'e.g. 10m, 512k, 1g' });
  return Math.floor(Number(m[1]) * unit);
}

export function parseLogConfig(driver: string | undefined, opts: Record<string, string>): LogConfig {
  const d = driver ?? 'json-file';
  if (d !== 'json-file' && d !== 'none') {
    throw new BrigError('INVALID_ARGUMENT', `--log-driver: "${d}" is not supported`, { field: '--log-driver', hint: 'json-file or none' });
  }
  const config: LogConfig = { driver: d, maxSize: 0, maxFiles: 1 };
  for (const [key, value] of Object.entries(opts)) {
    const field = `--log-opt ${key}`;
    if (d === 'none') throw new BrigError('INVALID_ARGUMENT', `${field}: the none driver takes no options`, { field });
    if (key === 'max-size') config.maxSize = parseSize(value, field);
    else if (key === 'max-file') {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new BrigError('INVALID_ARGUMENT', `${field}: must be a whole number of at least 1`, { field });
      config.maxFiles = Number(value);
    } else if (key === 'compress') {
      if (value !== 'true' && value !== 'false') throw new BrigError('INVALID_ARGUMENT', `${field}: must be true or false`, { field });
      if (value === 'true') throw new BrigError('UNSUPPORTED_FIELD', `${field}: compressing rotated files is not supported yet`, { field });
    } else {
      throw new BrigError('INVALID_ARGUMENT', `${field}: unknown option for the ${d} driver`, { field, hint: 'max-size, max-file, compress' });
    }
  }
  if (opts['max-file'] !== undefined && opts['max-size'] === undefined) {
    throw new BrigError('INVALID_ARGUMENT', '--log-opt max-file: needs max-size', { field: '--log-opt max-file' });
  }
  return config;
}
