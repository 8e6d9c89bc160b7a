import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { ABIS, syscallNumber } from '../../../src/runtime/seccomp/arch.js';
import { repoRoot } from '../../support/requires.js';

test('tables hold the numbers the kernel ABIs define', () => {
  // Spot checks from each ABI's syscall table.
  const expect: [Parameters<typeof syscallNumber>[0], string, number][] = [
    ['x86_64', 'read', 0],
    ['x86_64', 'getpid', 39],
    ['x86_64', 'getppid', 110],
    ['x86_64', 'clone3', 435],
    ['x32', 'read', 0x40000000],
    ['x32', 'rt_sigaction', 0x40000200],
    ['i386', 'getpid', 20],
    ['i386', 'socketcall', 102],
    ['i386', 'getppid', 64],
    ['aarch64', 'openat', 56],
    ['aarch64', 'getppid', 173],
    ['arm', 'getpid', 20],
    ['arm', 'cacheflush', 0x0f0002],
    ['arm', 'fchmodat2', 452],
  ];
  for (const [abi, name, nr] of expect) assert.equal(syscallNumber(abi, name), nr, `${abi} ${name}`);
  assert.equal(syscallNumber('aarch64', 'open'), undefined);
  assert.equal(syscallNumber('x86_64', 'socketcall'), undefined);
  assert.equal(syscallNumber('x86_64', 'constructor'), undefined);
  assert.equal(ABIS.x86_64.highest, 469);
});

function generatorSkip(): false | string {
  if (spawnSync('sh', ['-c', 'command -v cc']).status !== 0) return 'cc not installed';
  const headers: [string, string][] = [
    ['/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'linux-libc-dev'],
    ['/usr/aarch64-linux-gnu/include/asm/unistd.h', 'linux-libc-dev-arm64-cross'],
    ['/usr/arm-linux-gnueabihf/include/asm/unistd.h', 'linux-libc-dev-armhf-cross'],
  ];
  const missing = headers.find(([header]) => !existsSync(header));
  return missing ? `${missing[1]} not installed` : false;
}

test('generated tables match the installed headers', { skip: generatorSkip() }, () => {
  execFileSync(process.execPath, [`${repoRoot}scripts/gen-syscall-tables.mjs`, '--check'], { stdio: 'pipe' });
});
