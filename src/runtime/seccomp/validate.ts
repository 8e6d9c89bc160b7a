/**
 * Checks a `linux.seccomp` object from config.json and turns it into the plain numbers
 * the compiler works with. Every error names the JSON path of the offending field.
 */
import { BrigError } from '../../errors/index.js';
import {
  ACTION_BASE,
  EPERM,
  FLAG_BITS,
  MAX_ERRNO,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_LOG,
  takesData,
} from './actions.js';
import { type AbiName, RUNNABLE, SCMP_ARCHES } from './arch.js';
import type { NativeArch, SeccompAction, SeccompOperator } from './types.js';

export interface ArgCondition {
  index: number;
  op: SeccompOperator;
  value: bigint;
  valueTwo: bigint;
}

export interface Rule {
  names: string[];
  /** The filter return value, data included. */
  action: number;
  args: ArgCondition[];
  /** `linux.seccomp.syscalls[i]`, for messages. */
  path: string;
}

export interface CheckedProfile {
  defaultAction: number;
  /** The ABIs to emit sections for, native first. */
  abis: AbiName[];
  flags: number;
  notify: boolean;
  /** Numbers above an ABI's table get ENOSYS rather than the default action. */
  enosysAboveTable: boolean;
  rules: Rule[];
}

const ROOT = 'linux.seccomp';
export const OPERATORS: ReadonlySet<string> = new Set<SeccompOperator>([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
]);
const U64_MAX = (1n << 64n) - 1n;

function invalid(field: string, problem: string, hint?: string): BrigError {
  return new BrigError(
    'INVALID_CONFIG',
    `${field}: ${problem}`,
    hint === undefined ? { field } : { field, hint },
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(field, 'must be an array');
  return v;
}

function actionOf(v: unknown, field: string): SeccompAction {
  if (typeof v !== 'string' || !Object.hasOwn(ACTION_BASE, v)) {
    throw invalid(
      field,
      `unknown action ${JSON.stringify(v)}`,
      `one of ${Object.keys(ACTION_BASE).join(', ')}`,
    );
  }
  return v as SeccompAction;
}

function actionValue(action: SeccompAction, errnoRet: unknown, field: string): number {
  const base = ACTION_BASE[action];
  if (!takesData(action)) return base;
  if (errnoRet === undefined || errnoRet === null) return base | EPERM;
  const limit = action === 'SCMP_ACT_ERRNO' ? MAX_ERRNO : 0xffff;
  if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > limit) {
    throw invalid(field, `must be an integer from 0 to ${limit}, got ${JSON.stringify(errnoRet)}`);
  }
  return (base | errnoRet) >>> 0;
}

function u64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw invalid(field, 'must fit in an unsigned 64-bit integer');
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw invalid(field, `must be an unsigned integer, got ${JSON.stringify(v)}`);
  }
  if (!Number.isSafeInteger(v)) {
    throw invalid(
      field,
      `${v} is above 2^53 and lost precision when the JSON was read`,
      'pass it as a bigint',
    );
  }
  return BigInt(v);
}

function checkArg(v: unknown, field: string): ArgCondition {
  if (!isObject(v)) throw invalid(field, 'must be an object');
  const index = v.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    throw invalid(`${field}.index`, `must be an integer from 0 to 5, got ${JSON.stringify(index)}`);
  }
  if (typeof v.op !== 'string' || !OPERATORS.has(v.op)) {
    throw invalid(
      `${field}.op`,
      `unknown operator ${JSON.stringify(v.op)}`,
      `one of ${[...OPERATORS].join(', ')}`,
    );
  }
  const op = v.op as SeccompOperator;
  const value = u64(v.value, `${field}.value`);
  const valueTwo =
    v.valueTwo === undefined || v.valueTwo === null ? 0n : u64(v.valueTwo, `${field}.valueTwo`);
  return { index, op, value, valueTwo };
}

function checkRule(v: unknown, path: string): { rule: Rule; action: SeccompAction } {
  if (!isObject(v)) throw invalid(path, 'must be an object');
  const names = list(v.names, `${path}.names`);
  if (names.length === 0) throw invalid(`${path}.names`, 'must name at least one syscall');
  names.forEach((n, j) => {
    if (typeof n !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(n)) {
      throw invalid(`${path}.names[${j}]`, `not a syscall name: ${JSON.stringify(n)}`);
    }
  });
  const action = actionOf(v.action, `${path}.action`);
  const value = actionValue(action, v.errnoRet, `${path}.errnoRet`);
  const args = list(v.args, `${path}.args`).map((a, j) => checkArg(a, `${path}.args[${j}]`));
  return { rule: { names: names as string[], action: value, args, path }, action };
}

export function checkProfile(profile: unknown, nativeArch: NativeArch): CheckedProfile {
  if (!isObject(profile)) throw invalid(ROOT, 'must be an object');
  const defaultName = actionOf(profile.defaultAction, `${ROOT}.defaultAction`);
  if (defaultName === 'SCMP_ACT_NOTIFY') {
    throw invalid(
      `${ROOT}.defaultAction`,
      'SCMP_ACT_NOTIFY cannot be the default action',
      'the runtime itself must still send the listener fd and exec after loading the filter; notify only the syscalls you want to supervise',
    );
  }
  const defaultAction = actionValue(defaultName, profile.defaultErrnoRet, `${ROOT}.defaultErrnoRet`);

  const runnable = RUNNABLE[nativeArch];
  const abis = new Set<AbiName>([runnable[0]!]);
  list(profile.architectures, `${ROOT}.architectures`).forEach((a, i) => {
    if (typeof a !== 'string' || !Object.hasOwn(SCMP_ARCHES, a)) {
      throw invalid(`${ROOT}.architectures[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
    }
    const abi = SCMP_ARCHES[a as keyof typeof SCMP_ARCHES];
    if (abi !== undefined && runnable.includes(abi)) abis.add(abi);
  });

  let flags = 0;
  list(profile.flags, `${ROOT}.flags`).forEach((f, i) => {
    if (typeof f !== 'string' || !Object.hasOwn(FLAG_BITS, f)) {
      throw invalid(
        `${ROOT}.flags[${i}]`,
        `unknown flag ${JSON.stringify(f)}`,
        `one of ${Object.keys(FLAG_BITS).join(', ')}`,
      );
    }
    flags |= FLAG_BITS[f as keyof typeof FLAG_BITS];
  });

  const checked = list(profile.syscalls, `${ROOT}.syscalls`).map((s, i) =>
    checkRule(s, `${ROOT}.syscalls[${i}]`),
  );
  const notifyAt = checked.find((c) => c.action === 'SCMP_ACT_NOTIFY');
  if (notifyAt) {
    if (typeof profile.listenerPath !== 'string' || profile.listenerPath === '') {
      throw invalid(
        `${ROOT}.listenerPath`,
        `must be set because ${notifyAt.rule.path}.action is SCMP_ACT_NOTIFY`,
        'give the unix socket path of the seccomp agent',
      );
    }
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // The kernel refuses TSYNC with NEW_LISTENER unless told to report a failed sync as ESRCH.
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  } else if (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
    throw invalid(
      `${ROOT}.flags`,
      'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a SCMP_ACT_NOTIFY rule',
      'the kernel accepts it only together with a notify listener',
    );
  }
  if (profile.listenerPath !== undefined && typeof profile.listenerPath !== 'string') {
    throw invalid(`${ROOT}.listenerPath`, 'must be a string');
  }
  if (profile.listenerMetadata !== undefined && typeof profile.listenerMetadata !== 'string') {
    throw invalid(`${ROOT}.listenerMetadata`, 'must be a string');
  }

  return {
    defaultAction,
    abis: runnable.filter((a) => abis.has(a)),
    flags,
    notify: notifyAt !== undefined,
    enosysAboveTable: defaultAction !== SECCOMP_RET_ALLOW && defaultAction !== SECCOMP_RET_LOG,
    rules: checked.map((c) => c.rule),
  };
}
