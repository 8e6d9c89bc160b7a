import type { ErrorCode } from './codes.js';

export interface BrigErrorOptions {
  /** What the user can do about it. Shown on its own line. */
  hint?: string;
  /** The JSON path of the config field involved, e.g. `linux.namespaces[2].type`. */
  field?: string;
  /** A file or directory involved. */
  path?: string;
  cause?: unknown;
}

/**
 * The one error type brig raises on purpose. `code` is stable (see codes.ts); `message`
 * is for people and names the field or path involved.
 */
export class BrigError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly field: string | undefined;
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, opts: BrigErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BrigError';
    this.code = code;
    this.hint = opts.hint;
    this.field = opts.field;
    this.path = opts.path;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, field: this.field, path: this.path };
  }
}

/**
 * A failed system call inside the native helper, shaped like Node's SystemError
 * (syscall, errno, path, dest) plus the plan op that failed.
 */
export class BrigSystemError extends BrigError {
  readonly syscall: string;
  readonly errno: number;
  readonly errnoName: string;
  readonly dest: string | undefined;
  readonly op: string;
  readonly opIndex: number;

  constructor(
    message: string,
    info: {
      syscall: string;
      errno: number;
      errnoName: string;
      op: string;
      opIndex: number;
      path?: string;
      dest?: string;
      field?: string;
      hint?: string;
    },
    code: ErrorCode = 'SYSTEM',
  ) {
    super(code, message, { hint: info.hint, field: info.field, path: info.path });
    this.name = 'BrigSystemError';
    this.syscall = info.syscall;
    this.errno = info.errno;
    this.errnoName = info.errnoName;
    this.dest = info.dest;
    this.op = info.op;
    this.opIndex = info.opIndex;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      syscall: this.syscall,
      errno: this.errnoName,
      dest: this.dest,
      op: this.op,
      opIndex: this.opIndex,
    };
  }
}

export function isBrigError(e: unknown): e is BrigError {
  // A bundle loaded on demand (dist/brig-compose.cjs) has its own copy of the class.
  return e instanceof BrigError || (e instanceof Error && (e.name === 'BrigError' || e.name === 'BrigSystemError') && typeof (e as { code?: unknown }).code === 'string');
}

/** True for a Node fs error with the given code (ENOENT, EEXIST, ...). */
export function hasErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
