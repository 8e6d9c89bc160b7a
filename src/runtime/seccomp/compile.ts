/**
 * OCI `linux.seccomp` -> classic-BPF program for seccomp(SECCOMP_SET_MODE_FILTER).
 *
 * Shape of the program (one section per ABI, native first):
 *
 *     ld  [arch]                       seccomp_data.arch
 *     jeq AUDIT_ARCH_X86_64 -> x86_64
 *     jeq AUDIT_ARCH_I386   -> i386    (only when listed)
 *     ret KILL_PROCESS                 an ABI the profile does not cover
 *   x86_64:
 *     ld  [nr]
 *     jge 0x40000000 -> x32 tree, or KILL_PROCESS when x32 is not listed
 *     <binary search over number ranges> -> ret leaves | argument checks
 *   x32: ...   i386: ...
 *
 * Numbers are split into contiguous ranges with one verdict each (a known syscall's rules,
 * the default action for numbers the profile does not mention, ENOSYS above the highest
 * number the table knows), neighbours with the same plain verdict merged. A balanced tree of
 * `jge` over the range starts finds the verdict in log2(ranges) steps, so a 300-syscall
 * allow-list costs about ten instructions per syscall, not three hundred.
 *
 * Small subtrees jump straight to a shared pool of `ret`s placed after them, so a leaf costs
 * no instruction of its own; jumps that still land beyond 255 go through the assembler's
 * trampolines.
 *
 * A syscall whose rules have no argument conditions ends in a plain `ret`. The kernel
 * (since 5.11) emulates the filter once per syscall number at load time and skips running
 * it for numbers whose result can never depend on arguments; plain leaves keep them in that
 * cache. Argument checks load seccomp_data.args[i] in two 32-bit halves (low first:
 * little-endian) and compare them unsigned; 32-bit ABIs compare the low half only.
 *
 * For one syscall, rules with argument conditions are tried in profile order and the first
 * that matches decides; then its unconditional rule applies, else the default action. Two
 * unconditional rules with different actions for one syscall are a configuration error.
 */
import { BrigError } from '../../errors/index.js';
import { ENOSYS, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS } from './actions.js';
import { ABIS, type Abi, X32_SYSCALL_BIT } from './arch.js';
import { Assembler, BPF_MAXINSNS, encode, type Label } from './bpf.js';
import type { CompiledSeccomp, LinuxSeccomp, NativeArch } from './types.js';
import type { SeccompCache } from './disk-cache.js';
import { buildInfo } from '../../util/build-info.js';
import { type ArgCondition, type CheckedProfile, checkProfile, type Rule } from './validate.js';

// struct seccomp_data
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;
const argHigh = (i: number) => 16 + 8 * i + 4;

/** What one syscall number does: conditional rules first (in profile order), then `fallback`. */
interface Verdict {
  conditional: { args: ArgCondition[]; action: number }[];
  fallback: number;
}

interface Range {
  start: number;
  verdict: Verdict;
}

export interface CompileOptions {
  nativeArch: NativeArch;
  /** Programs kept between processes (disk-cache.ts); the in-memory cache is always used. */
  cache?: SeccompCache;
}

const cache = new Map<string, CompiledSeccomp>();
const CACHE_LIMIT = 64;

/**
 * Compiles and caches by content: the same profile for the same architecture yields the
 * same bytes, so containers started from one image share one compilation.
 */
export function compileSeccomp(profile: LinuxSeccomp, opts: CompileOptions): CompiledSeccomp {
  // The whole input is the key (the caches compare it, never a hash of it), with the build:
  // another brig may compile the same profile differently.
  const build = buildInfo();
  const key = `${build.commit}\0${build.built}\0${opts.nativeArch}\0${canonicalJson(profile)}`;
  // Code not from a bundle has no build identity: it never shares programs through the disk.
  const disk = build.commit === 'unknown' ? undefined : opts.cache;
  const hit = cache.get(key) ?? disk?.get(key);
  if (hit) {
    cache.set(key, hit);
    return { ...hit, bytes: hit.bytes.slice() };
  }
  const result = compileUncached(profile, opts);
  disk?.set(key, result);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, result);
  return { ...result, bytes: result.bytes.slice() };
}

export function compileUncached(profile: LinuxSeccomp, opts: CompileOptions): CompiledSeccomp {
  const checked = checkProfile(profile, opts.nativeArch);
  const asm = new Assembler();

  // Arch dispatch; an ABI the profile does not cover kills the process. x32 shares
  // x86_64's audit arch and is split off by number inside the x86_64 section.
  const sectionAbis = checked.abis.filter((a) => a !== 'x32');
  const sections = new Map(sectionAbis.map((a) => [a, asm.label(`abi:${a}`)]));
  const badArch = asm.label('bad-arch');
  asm.ldAbs(OFF_ARCH);
  sectionAbis.forEach((name, i) => {
    const next = i === sectionAbis.length - 1 ? badArch : asm.label('arch-next');
    asm.jump('jeq', ABIS[name].auditArch, sections.get(name)!, next);
    if (next !== badArch) asm.bind(next);
  });
  asm.bind(badArch);
  asm.ret(SECCOMP_RET_KILL_PROCESS);

  for (const name of sectionAbis) {
    asm.bind(sections.get(name)!);
    asm.ldAbs(OFF_NR);
    if (name === 'x86_64') {
      const native = asm.label('x86_64-tree');
      const x32 = asm.label(checked.abis.includes('x32') ? 'x32-tree' : 'x32-refused');
      asm.jump('jge', X32_SYSCALL_BIT, x32, native);
      asm.bind(native);
      emitTree(asm, ranges(ABIS.x86_64, checked), ABIS.x86_64);
      asm.bind(x32);
      if (checked.abis.includes('x32')) emitTree(asm, ranges(ABIS.x32, checked), ABIS.x32);
      else asm.ret(SECCOMP_RET_KILL_PROCESS);
    } else {
      emitTree(asm, ranges(ABIS[name], checked), ABIS[name]);
    }
  }

  const program = asm.assemble();
  if (program.length > BPF_MAXINSNS) {
    throw new BrigError(
      'SECCOMP_TOO_LARGE',
      `linux.seccomp: the compiled filter has ${program.length} instructions, more than the kernel's limit of ${BPF_MAXINSNS}`,
      {
        field: 'linux.seccomp',
        hint: 'merge argument conditions or drop rules that repeat the default action',
      },
    );
  }
  return {
    bytes: encode(program),
    instructions: program.length,
    flags: checked.flags,
    notify: checked.notify,
  };
}

/** Per-number verdicts for one ABI, as contiguous ranges covering abi.first..abi.last. */
function ranges(abi: Abi, profile: CheckedProfile): Range[] {
  const byNumber = new Map<
    number,
    { conditional: Verdict['conditional']; plain?: { action: number; rule: Rule } }
  >();
  for (const rule of profile.rules) {
    for (const name of rule.names) {
      const nr = abi.table.get(name);
      if (nr === undefined) continue; // the spec lets runtimes skip names this ABI lacks
      let entry = byNumber.get(nr);
      if (!entry) {
        entry = { conditional: [] };
        byNumber.set(nr, entry);
      }
      const args = abi.wide ? rule.args : rule.args.map(narrow);
      if (args.length > 0) {
        entry.conditional.push({ args, action: rule.action });
      } else if (!entry.plain) {
        // The first unconditional rule for a syscall wins, as with libseccomp (a later one
        // does not override it). Real profiles rely on this: podman's lists setns and
        // unshare in its big allow rule and again, with ERRNO, for when CAP_SYS_ADMIN is
        // absent; runc and crun load that profile with the allow in force.
        entry.plain = { action: rule.action, rule };
      }
    }
  }

  const enosys = (SECCOMP_RET_ERRNO | ENOSYS) >>> 0;
  const out: Range[] = [];
  const push = (start: number, verdict: Verdict) => {
    const prev = out.at(-1);
    const plain = verdict.conditional.length === 0;
    if (prev && plain && prev.verdict.conditional.length === 0 && prev.verdict.fallback === verdict.fallback)
      return;
    out.push({ start, verdict });
  };
  // Unmentioned numbers get the default action, or ENOSYS above the regular table (arm's
  // private syscalls at 0x0f0000 sit up there too: they are known and keep the default).
  const unknown = profile.enosysAboveTable ? enosys : profile.defaultAction;
  const gap = (from: number, to: number) => {
    if (from <= Math.min(to, abi.highest)) push(from, { conditional: [], fallback: profile.defaultAction });
    if (to > abi.highest) push(Math.max(from, abi.highest + 1), { conditional: [], fallback: unknown });
  };
  const numbers = [...new Set([...byNumber.keys(), ...abi.table.values()].filter((n) => n > abi.highest))]
    .concat([...byNumber.keys()].filter((n) => n <= abi.highest))
    .filter((n) => n >= abi.first && n <= abi.last)
    .sort((a, b) => a - b);
  let cursor = abi.first;
  for (const nr of numbers) {
    if (nr > cursor) gap(cursor, nr - 1);
    const entry = byNumber.get(nr) ?? { conditional: [] };
    const fallback = entry.plain?.action ?? profile.defaultAction;
    // A condition whose action equals the fallback changes nothing; dropping it keeps the leaf plain.
    const conditional = entry.conditional.filter((c) => c.action !== fallback);
    push(nr, { conditional, fallback });
    cursor = nr + 1;
  }
  if (cursor <= abi.last) gap(cursor, abi.last);
  return out;
}

/** Subtrees of at most this many ranges share one set of `ret`s, placed after them. */
const POOL_RANGES = 32;

/** `ret` instructions shared by the leaves of one subtree, emitted once at its end. */
class RetPool {
  #labels = new Map<number, Label>();
  constructor(private readonly asm: Assembler) {}
  label(value: number): Label {
    let l = this.#labels.get(value);
    if (!l) {
      l = this.asm.label(`ret:${value.toString(16)}`);
      this.#labels.set(value, l);
    }
    return l;
  }
  emit(): void {
    for (const [value, label] of this.#labels) {
      this.asm.bind(label);
      this.asm.ret(value);
    }
  }
}

const isPlain = (r: Range) => r.verdict.conditional.length === 0;

/**
 * A balanced tree of `jge` over the range starts. Small subtrees jump straight to a pool of
 * shared `ret`s right after them, so a leaf costs no instruction of its own and every jump
 * stays short; a subtree longer than 255 instructions gets the assembler's trampolines.
 */
function emitTree(asm: Assembler, rs: Range[], abi: Abi): void {
  const sub = (lo: number, hi: number, pool: RetPool | undefined): void => {
    if (!pool && hi - lo <= POOL_RANGES) {
      const own = new RetPool(asm);
      sub(lo, hi, own);
      own.emit();
      return;
    }
    if (hi - lo === 1) {
      emitLeaf(asm, rs[lo]!.verdict, abi, pool ?? new RetPool(asm));
      return;
    }
    const mid = (lo + hi) >> 1;
    const child = (l: number, h: number): [Label, boolean] =>
      pool && h - l === 1 && isPlain(rs[l]!)
        ? [pool.label(rs[l]!.verdict.fallback), true]
        : [asm.label('node'), false];
    const [upper, upperIsRet] = child(mid, hi);
    const [lower, lowerIsRet] = child(lo, mid);
    asm.jump('jge', rs[mid]!.start, upper, lower);
    if (!lowerIsRet) {
      asm.bind(lower);
      sub(lo, mid, pool);
    }
    if (!upperIsRet) {
      asm.bind(upper);
      sub(mid, hi, pool);
    }
  };
  sub(0, rs.length, undefined);
}

/**
 * A run of rules that each test one argument for equality, with the same argument and
 * action (personality(0) || personality(8) || ...): one membership test, loading each half
 * once, instead of a full 64-bit comparison per rule.
 */
interface EqualitySet {
  index: number;
  values: bigint[];
  action: number;
}

type Check = { kind: 'all'; args: ArgCondition[]; action: number } | ({ kind: 'set' } & EqualitySet);

function checks(conditional: Verdict['conditional']): Check[] {
  const out: Check[] = [];
  for (const rule of conditional) {
    const only = rule.args.length === 1 && rule.args[0]!.op === 'SCMP_CMP_EQ' ? rule.args[0]! : undefined;
    const prev = out.at(-1);
    if (only && prev?.kind === 'set' && prev.index === only.index && prev.action === rule.action) {
      prev.values.push(only.value);
    } else if (only) {
      out.push({ kind: 'set', index: only.index, values: [only.value], action: rule.action });
    } else {
      out.push({ kind: 'all', args: rule.args, action: rule.action });
    }
  }
  return out;
}

/** Conditional rules in profile order, the first that matches decides; then the fallback. */
function emitLeaf(asm: Assembler, v: Verdict, abi: Abi, pool: RetPool): void {
  if (v.conditional.length === 0) {
    asm.ret(v.fallback);
    return;
  }
  const fallback = pool.label(v.fallback);
  const list = checks(v.conditional);
  list.forEach((check, i) => {
    const fail = i === list.length - 1 ? fallback : asm.label('next-rule');
    const pass = pool.label(check.action);
    if (check.kind === 'set') {
      emitEqualitySet(asm, check, abi.wide, pass, fail);
    } else {
      check.args.forEach((arg, j) => {
        const last = j === check.args.length - 1;
        const next = last ? pass : asm.label('next-arg');
        emitArgTest(asm, arg, abi.wide, next, fail);
        if (!last) asm.bind(next);
      });
    }
    if (fail !== fallback) asm.bind(fail);
  });
}

/** arg == one of values: branch on the high half first, then compare the low halves under it. */
function emitEqualitySet(asm: Assembler, set: EqualitySet, wide: boolean, pass: Label, fail: Label): void {
  const byHigh = new Map<number, number[]>();
  for (const v of set.values) {
    const h = wide ? hi32(v) : 0;
    byHigh.set(h, [...new Set([...(byHigh.get(h) ?? []), lo32(v)])]);
  }
  const lows = (values: number[]) => {
    asm.ldAbs(argLow(set.index));
    values.forEach((lo, i) => {
      const next = i === values.length - 1 ? fail : asm.label('next-value');
      asm.jump('jeq', lo, pass, next);
      if (next !== fail) asm.bind(next);
    });
  };
  if (!wide) {
    lows([...byHigh.values()].flat());
    return;
  }
  const groups = [...byHigh];
  const labels = groups.map(() => asm.label('high-eq'));
  asm.ldAbs(argHigh(set.index));
  groups.forEach(([h], i) => {
    const next = i === groups.length - 1 ? fail : asm.label('next-high');
    asm.jump('jeq', h, labels[i]!, next);
    if (next !== fail) asm.bind(next);
  });
  groups.forEach(([, values], i) => {
    asm.bind(labels[i]!);
    lows(values);
  });
}

/** On 32-bit ABIs the argument registers are 32 bits wide: compare the low halves only. */
function narrow(a: ArgCondition): ArgCondition {
  return { ...a, value: a.value & 0xffffffffn, valueTwo: a.valueTwo & 0xffffffffn };
}

const hi32 = (v: bigint) => Number(v >> 32n);
const lo32 = (v: bigint) => Number(v & 0xffffffffn);

/**
 * One 64-bit unsigned comparison as two 32-bit ones: decide on the high halves where they
 * differ, compare the low halves only where they are equal. `wide` false skips the high half.
 */
function emitArgTest(asm: Assembler, a: ArgCondition, wide: boolean, pass: Label, fail: Label): void {
  const hiOff = argHigh(a.index);
  const loOff = argLow(a.index);
  switch (a.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      const [t, f] = a.op === 'SCMP_CMP_EQ' ? [pass, fail] : [fail, pass];
      if (wide) {
        const lo = asm.label('lo');
        asm.ldAbs(hiOff);
        asm.jump('jeq', hi32(a.value), lo, f);
        asm.bind(lo);
      }
      asm.ldAbs(loOff);
      asm.jump('jeq', lo32(a.value), t, f);
      return;
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      // LT is !GE and LE is !GT: same code, targets swapped.
      const strict = a.op === 'SCMP_CMP_GT' || a.op === 'SCMP_CMP_LE';
      const [t, f] = a.op === 'SCMP_CMP_GT' || a.op === 'SCMP_CMP_GE' ? [pass, fail] : [fail, pass];
      if (wide) {
        const eq = asm.label('hi-eq');
        const lo = asm.label('lo');
        asm.ldAbs(hiOff);
        asm.jump('jgt', hi32(a.value), t, eq);
        asm.bind(eq);
        asm.jump('jeq', hi32(a.value), lo, f);
        asm.bind(lo);
      }
      asm.ldAbs(loOff);
      asm.jump(strict ? 'jgt' : 'jge', lo32(a.value), t, f);
      return;
    }
    case 'SCMP_CMP_MASKED_EQ': {
      // (arg & value) == valueTwo
      const halves: [number, number, number][] = [[loOff, lo32(a.value), lo32(a.valueTwo)]];
      if (wide) halves.unshift([hiOff, hi32(a.value), hi32(a.valueTwo)]);
      halves.forEach(([off, mask, datum], i) => {
        const last = i === halves.length - 1;
        const ok = last ? pass : asm.label('masked-next');
        if (mask === 0) {
          // (x & 0) == datum does not depend on x.
          if (datum !== 0) asm.ja(fail);
          else if (last) asm.ja(pass);
        } else {
          asm.ldAbs(off);
          if (mask !== 0xffffffff) asm.andK(mask);
          asm.jump('jeq', datum, ok, fail);
        }
        if (ok !== pass) asm.bind(ok);
      });
      return;
    }
  }
}

/** JSON with sorted keys and bigints spelled out, so equal profiles hash equal. */
export function canonicalJson(v: unknown): string {
  if (typeof v === 'bigint') return `"${v}n"`;
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
