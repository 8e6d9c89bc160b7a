#!/usr/bin/env node
/**
 * Generates src/runtime/seccomp/tables/*.ts, the syscall name -> number tables seccomp
 * rules are compiled against, from the kernel UAPI headers installed on this machine.
 *
 *   node scripts/gen-syscall-tables.mjs            # write the tables
 *   node scripts/gen-syscall-tables.mjs --check    # exit 1 if the committed tables differ
 *
 * Needs `cc` and these Debian packages: linux-libc-dev (x86_64, i386, x32),
 * linux-libc-dev-arm64-cross (aarch64), linux-libc-dev-armhf-cross (arm EABI).
 *
 * The C preprocessor does the reading: headers are full of `#if`, `__NR3264_*` indirections
 * and `(__NR_SYSCALL_BASE + n)` arithmetic that only it gets right. We ask it twice: first
 * which `__NR_*` macros exist (-dM), then what each expands to, and evaluate the (purely
 * additive) expansion here.
 *
 * Syscalls added to the kernel after the installed headers are appended from SUPPLEMENT.
 * Since pidfd_send_signal (424, Linux 5.1) new syscalls get the same number on every
 * architecture (x32 adds its 0x40000000 bit), so one list serves all five tables.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(repo, 'src/runtime/seccomp/tables');

const X32_BIT = 0x40000000;

/** name -> [number, arches that lack it]; numbers are the unified ones (see above). */
const SUPPLEMENT = [
  ['cachestat', 451, []], // 6.5
  ['fchmodat2', 452, []], // 6.6
  ['map_shadow_stack', 453, ['i386', 'x32', 'arm']], // 6.6, 64-bit only
  ['futex_wake', 454, []], // 6.7
  ['futex_wait', 455, []],
  ['futex_requeue', 456, []],
  ['statmount', 457, []], // 6.8
  ['listmount', 458, []],
  ['lsm_get_self_attr', 459, []],
  ['lsm_set_self_attr', 460, []],
  ['lsm_list_modules', 461, []],
  ['mseal', 462, []], // 6.10
  ['setxattrat', 463, []], // 6.13
  ['getxattrat', 464, []],
  ['listxattrat', 465, []],
  ['removexattrat', 466, []],
  ['open_tree_attr', 467, []], // 6.15
  ['file_getattr', 468, []], // 6.17
  ['file_setattr', 469, []],
];

const ARCHES = [
  {
    name: 'x86_64',
    header: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h',
    includes: ['/usr/include/x86_64-linux-gnu', '/usr/include'],
    defines: [],
    pkg: 'linux-libc-dev',
  },
  {
    name: 'x32',
    header: '/usr/include/x86_64-linux-gnu/asm/unistd_x32.h',
    includes: ['/usr/include/x86_64-linux-gnu', '/usr/include'],
    // asm/unistd.h defines the bit; unistd_x32.h only uses it.
    defines: ['__X32_SYSCALL_BIT=0x40000000'],
    pkg: 'linux-libc-dev',
    bias: X32_BIT,
  },
  {
    name: 'i386',
    header: '/usr/include/x86_64-linux-gnu/asm/unistd_32.h',
    includes: ['/usr/include/x86_64-linux-gnu', '/usr/include'],
    defines: [],
    pkg: 'linux-libc-dev',
  },
  {
    name: 'aarch64',
    header: '/usr/aarch64-linux-gnu/include/asm/unistd.h',
    includes: ['/usr/aarch64-linux-gnu/include'],
    defines: [],
    pkg: 'linux-libc-dev-arm64-cross',
  },
  {
    name: 'arm',
    header: '/usr/arm-linux-gnueabihf/include/asm/unistd.h',
    includes: ['/usr/arm-linux-gnueabihf/include'],
    defines: ['__ARM_EABI__'],
    pkg: 'linux-libc-dev-armhf-cross',
  },
];

/** Macros that are bookkeeping, not syscalls. */
const NOT_SYSCALLS = new Set([
  '__NR_syscalls',
  '__NR_SYSCALL_BASE',
  '__NR_OABI_SYSCALL_BASE',
  '__NR_SYSCALL_MASK',
  '__NR_arch_specific_syscall',
  '__ARM_NR_BASE',
]);

function cpp(arch, extraSource, flags) {
  const args = ['-E', ...flags, '-nostdinc', ...arch.includes.flatMap((i) => ['-I', i])];
  for (const d of arch.defines) args.push(`-D${d}`);
  args.push('-x', 'c', '-');
  return execFileSync('cc', args, { input: `#include "${arch.header}"\n${extraSource}`, encoding: 'utf8' });
}

function pkgVersion(pkg) {
  try {
    // prints "name<TAB>version"
    return execFileSync('dpkg-query', ['-W', pkg], { encoding: 'utf8' }).trim().split('\t')[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function evaluate(expr, what) {
  if (!/^[\s0-9a-fA-FxX+()]+$/.test(expr)) throw new Error(`${what}: cannot evaluate "${expr}"`);
  let total = 0;
  for (const term of expr.replace(/[()\s]/g, '').split('+')) {
    if (term === '') continue;
    total += Number(term);
  }
  if (!Number.isInteger(total)) throw new Error(`${what}: "${expr}" is not an integer`);
  return total;
}

function readArch(arch) {
  if (!existsSync(arch.header)) {
    throw new Error(`${arch.header} is missing: apt-get install ${arch.pkg}`);
  }
  const names = [];
  for (const line of cpp(arch, '', ['-dM']).split('\n')) {
    const m = /^#define ((?:__NR_|__ARM_NR_)\w+)\s/.exec(line);
    if (m && !NOT_SYSCALLS.has(m[1]) && !m[1].startsWith('__NR3264')) names.push(m[1]);
  }
  // Name the line by index: the macro name itself would be expanded too.
  const probe = names.map((n, i) => `BRIG_SYSCALL ${i} = ${n} ;`).join('\n');
  const table = new Map();
  for (const line of cpp(arch, probe, ['-P']).split('\n')) {
    const m = /^BRIG_SYSCALL (\d+) = (.*) ;$/.exec(line);
    if (!m) continue;
    const macro = names[Number(m[1])];
    table.set(macro.replace(/^__(?:ARM_)?NR_/, ''), evaluate(m[2], `${arch.name} ${macro}`));
  }
  const fromHeaders = table.size;
  for (const [name, nr, lacking] of SUPPLEMENT) {
    if (lacking.includes(arch.name) || table.has(name)) continue;
    table.set(name, nr + (arch.bias ?? 0));
  }
  return { table, fromHeaders, supplemented: table.size - fromHeaders };
}

function render(arch, { table, fromHeaders, supplemented }) {
  const entries = [...table].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const ident = `${arch.name.toUpperCase()}_SYSCALLS`;
  const hex = (n) => (n >= 0x10000 ? `0x${n.toString(16)}` : String(n));
  return [
    `// Generated by scripts/gen-syscall-tables.mjs from ${arch.header}`,
    `// (${arch.pkg} ${pkgVersion(arch.pkg)}): ${fromHeaders} from the headers, ${supplemented} newer ones`,
    "// from the script's SUPPLEMENT list. Do not edit; run `node scripts/gen-syscall-tables.mjs`.",
    '',
    `export const ${ident}: ReadonlyMap<string, number> = new Map([`,
    ...entries.map(([name, nr]) => `  ['${name}', ${hex(nr)}],`),
    ']);',
    '',
  ].join('\n');
}

const check = process.argv.includes('--check');
mkdirSync(outDir, { recursive: true });
let stale = false;
for (const arch of ARCHES) {
  const result = readArch(arch);
  const text = render(arch, result);
  const file = join(outDir, `${arch.name}.ts`);
  if (check) {
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (old !== text) {
      stale = true;
      console.error(`${file} is out of date`);
    }
  } else {
    writeFileSync(file, text);
    console.log(
      `${arch.name}: ${result.table.size} syscalls (${result.supplemented} supplemented) -> ${file}`,
    );
  }
}
if (stale) process.exit(1);
