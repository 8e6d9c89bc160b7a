/** A small leveled logger; the CLI decides where lines go (stderr, --log file) and their format. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const nullLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Formats lines as runc does: `text` (time="…" level=… msg="…") or `json` ({"level","msg","time"}). */
export function lineLogger(
  write: (line: string) => void,
  format: 'text' | 'json',
  min: LogLevel,
  now = () => new Date(),
): Logger {
  const emit =
    (level: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[level] < ORDER[min]) return;
      const time = now().toISOString();
    // logrus's names, as runc writes them (containerd and podman parse runc's log lines).
    const name = level === 'warn' ? 'warning' : level;
      if (format === 'json') write(`${JSON.stringify({ level: name, msg, time, ...fields })}\n`);
      else {
        const extra = Object.entries(fields)
          .map(([k, v]) => ` ${k}=${JSON.stringify(v)}`)
          .join('');
        write(`time="${time}" level=${name} msg=${JSON.stringify(msg)}${extra}\n`);
      }
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
