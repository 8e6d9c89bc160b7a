/**
 * Turns the helper's fixed error record into a BrigSystemError that names the config field
 * the failing op came from, with a hint where the cause is known.
 */
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';
import { BrigSystemError } from '../errors/index.js';
import type { Op } from '../runtime/plan/ops.js';

/** Linux's ETIMEDOUT: the helper's record for a hook killed at its timeout. */
const ETIMEDOUT = 110;

export const ERROR_RECORD_SIZE = 4 + 4 + 32 + 512 + 512 + 256;

export interface ErrorRecord {
  opIndex: number;
  errno: number;
  syscall: string;
  path: string;
  dest: string;
  detail: string;
}

function cstr(buf: Uint8Array, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end < 0 ? slice : slice.subarray(0, end));
}

export function decodeErrorRecord(buf: Uint8Array): ErrorRecord {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    opIndex: dv.getUint32(0, true),
    errno: dv.getInt32(4, true),
    syscall: cstr(buf, 8, 32),
    path: cstr(buf, 40, 512),
    dest: cstr(buf, 552, 512),
    detail: cstr(buf, 1064, 256),
  };
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

function errnoMessage(errno: number): string {
  try {
    return getSystemErrorMessage(-errno);
  } catch {
    return 'unknown error';
  }
}

/** What the op was doing, in words, for the message. */
function describe(op: Op | undefined, rec: ErrorRecord): string {
  if (!op) return 'starting the container';
  switch (op.op) {
    case 'mount_bind':
      return `bind mount of ${op.source} on ${op.dest}`;
    case 'mount_fs':
      return `mount of ${op.fstype} on ${op.dest}`;
    case 'mkdir_in_root':
    case 'mkfile_in_root':
      return `creating mount point ${op.path}`;
    case 'mknod_in_root':
      return `creating device ${op.path}`;
    case 'symlink_in_root':
      return `creating link ${op.path}`;
    case 'ns_open':
      return `opening namespace ${op.path}`;
    case 'ns_join':
      return 'joining the namespace';
    case 'clone':
      return 'creating the namespaces';
    case 'write_file':
      return `writing ${op.path}`;
    case 'rootfs_open':
      return `preparing the root ${op.path}`;
    case 'pivot_root':
    case 'chroot_root':
      return 'switching to the container root';
    case 'mask_path':
      return `masking ${op.path}`;
    case 'readonly_path':
      return `making ${op.path} read-only`;
    case 'chdir':
      return `changing directory to ${op.path}`;
    case 'setrlimit':
      return 'setting the resource limit';
    default:
      return rec.syscall || op.op;
  }
}

function hintFor(op: Op | undefined, rec: ErrorRecord): string | undefined {
  const e = errnoName(rec.errno);
  if (op?.op === 'clone' && (e === 'EPERM' || e === 'ENOSPC' || e === 'EINVAL')) {
    return 'the kernel refused a namespace: check user.max_user_namespaces and the other user.max_*_namespaces sysctls';
  }
  if (op?.op === 'mount_fs' && e === 'ENODEV')
    return `the kernel has no "${op.fstype}" filesystem (see /proc/filesystems)`;
  if (op?.op === 'mount_bind' && e === 'ENOENT') return `check that ${op.source} exists on the host`;
  if (op?.op === 'chdir' && e === 'ENOENT') return 'process.cwd must exist inside the container';
  if (op?.op === 'chdir' && e === 'EACCES')
    return "the process user cannot enter process.cwd: fix the directory's mode or owner";
  if (op?.op === 'setrlimit' && e === 'EPERM') return 'raising a hard limit needs CAP_SYS_RESOURCE';
  if (op?.op === 'write_file' && op.path.startsWith('/proc/sys/') && e === 'ENOENT')
    return 'this kernel has no such sysctl';
  if (op?.op === 'rootfs_open' && e === 'EACCES') {
    return "in a user namespace the container's root is a mapped host uid: it must be able to search every directory above the rootfs";
  }
  if (op?.op === 'pivot_root' && e === 'EINVAL')
    return 'pivot_root refused this root (e.g. a ramfs root or shared propagation): try --no-pivot';
  return undefined;
}

export function toBrigError(rec: ErrorRecord, ops: readonly Op[]): BrigSystemError {
  const op = ops[rec.opIndex];
  const name = errnoName(rec.errno);
  const detail = rec.detail ? ` (${rec.detail})` : '';
  if (op?.op === 'exec' && (name === 'ENOENT' || name === 'EACCES')) {
    const arg0 = op.argv[0] ?? '';
    // Go's (runc's, so docker's) words: the docker CLI reads "executable file not found", "no
    // such file or directory" and "permission denied" in a start's error to exit 127 or 126.
    const what =
      name === 'ENOENT' ? (arg0.includes('/') ? 'no such file or directory' : 'executable file not found in $PATH') : 'permission denied';
    return new BrigSystemError(
      `process.args[0]: exec: "${arg0}": ${what}`,
      {
        syscall: 'execve',
        errno: rec.errno,
        errnoName: name,
        op: op.op,
        opIndex: rec.opIndex,
        path: arg0,
        field: 'process.args',
      },
      name === 'ENOENT' ? 'EXEC_NOT_FOUND' : 'EXEC_DENIED',
    );
  }
  if (op?.op === 'hook' && rec.syscall === 'hook') {
    // The hook ran and failed (ECHILD is only the record's marker): say it as the
    // runtime-namespace hooks do (runtime/hooks.ts).
    const why = rec.errno === ETIMEDOUT ? `timed out after ${Number(op.timeout_ms) / 1000}s` : rec.detail;
    return new BrigSystemError(
      `${op.field}: ${op.path} failed (${why})`,
      { syscall: 'hook', errno: rec.errno, errnoName: name, op: op.op, opIndex: rec.opIndex, path: op.path, field: op.field },
      'HOOK_FAILED',
    );
  }
  const field = op?.field ?? 'process';
  const paths = [rec.path, rec.dest].filter((p) => p !== '').join(' -> ');
  const message = `${field}: ${describe(op, rec)} failed: ${rec.syscall}${paths ? ` ${paths}` : ''}: ${errnoMessage(rec.errno)} (${name})${detail}`;
  return new BrigSystemError(message, {
    syscall: rec.syscall,
    errno: rec.errno,
    errnoName: name,
    op: op?.op ?? 'unknown',
    opIndex: rec.opIndex,
    field,
    ...(rec.path ? { path: rec.path } : {}),
    ...(rec.dest ? { dest: rec.dest } : {}),
    ...(hintFor(op, rec) ? { hint: hintFor(op, rec)! } : {}),
  });
}
