/**
 * The container's filesystem: masked and read-only paths, a read-only root, mount
 * propagation, and that nothing of the host is reachable or writable by the classic routes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brigRuntime, brigRuntimeAsync, leftovers, makeBundle, runIn } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

test('masked paths are unreadable: files read empty, directories are empty', { skip }, () => {
  const r = runIn(
    [
      'sh',
      '-c',
      'cat /proc/kcore | wc -c; ls -A /proc/acpi /sys/firmware/ | grep -v : | grep . | wc -l; echo x > /proc/kcore && echo WROTE',
    ],
    (s) => {
      s.linux!.maskedPaths = ['/proc/kcore', '/sys/firmware', '/proc/acpi', '/does/not/exist'];
    },
  );
  assert.equal(r.code, 1, r.stderr);
  const [kcore, dirs] = r.stdout.trim().split('\n');
  assert.equal(kcore!.trim(), '0');
  assert.equal(dirs!.trim(), '0');
  assert.doesNotMatch(r.stdout, /WROTE/);
});

test('read-only paths cannot be written, even by root', { skip }, () => {
  const r = runIn(['sh', '-c', 'echo 1 > /proc/sys/kernel/ns_last_pid && echo WROTE; echo done'], (s) => {
    s.linux!.readonlyPaths = ['/proc/sys'];
    s.process!.capabilities = {
      bounding: ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE'],
      effective: ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE'],
      permitted: ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE'],
    };
  });
  assert.match(r.stderr + r.stdout, /Read-only file system/);
  assert.doesNotMatch(r.stdout, /WROTE/);
});

test('root.readonly makes the root read-only but leaves its tmpfs mounts writable', { skip }, () => {
  const r = runIn(['sh', '-c', 'touch /newfile && echo ROOTRW; touch /tmp/ok && echo TMPRW'], (s) => {
    s.root!.readonly = true;
  });
  assert.match(r.stderr, /Read-only file system/);
  assert.doesNotMatch(r.stdout, /ROOTRW/);
  assert.match(r.stdout, /TMPRW/);
});

test('bind mounts honour ro and are writable without it', { skip }, () => {
  const host = mkdtempSync(path.join(tmpdir(), 'brig-bind-'));
  try {
    const r = runIn(['sh', '-c', 'echo a > /rw/f && echo RW; echo b > /ro/f && echo RO'], (s) => {
      s.mounts!.push({ destination: '/rw', type: 'bind', source: host, options: ['rbind'] });
      s.mounts!.push({ destination: '/ro', type: 'bind', source: host, options: ['rbind', 'ro'] });
    });
    assert.match(r.stdout, /^RW$/m);
    assert.doesNotMatch(r.stdout, /^RO$/m);
    assert.ok(existsSync(path.join(host, 'f')));
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});

async function propagationSeen(option: string): Promise<boolean> {
  // This host's / is private, so the test makes a shared mount of its own to propagate from.
  const host = mkdtempSync(path.join(tmpdir(), 'brig-prop-'));
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', host]);
  execFileSync('mount', ['--make-shared', host]);
  mkdirSync(path.join(host, 'sub'));
  const b = makeBundle(
    [
      'sh',
      '-c',
      'for i in $(seq 1 60); do [ -e /shared/sub/marker ] && echo SEEN && exit 0; sleep 0.05; done; echo NOTSEEN',
    ],
    (s) => {
      s.mounts!.push({ destination: '/shared', type: 'bind', source: host, options: ['rbind', option] });
    },
  );
  try {
    const running = brigRuntimeAsync(b, ['run', 'prop']);
    await new Promise((r) => setTimeout(r, 400));
    // A new mount on the host, below the bind source, after the container started.
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(host, 'sub')]);
    writeFileSync(path.join(host, 'sub', 'marker'), 'x');
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.includes('SEEN') && !r.stdout.includes('NOTSEEN');
  } finally {
    execFileSync('umount', [path.join(host, 'sub')]);
    execFileSync('umount', [host]);
    rmSync(host, { recursive: true, force: true });
    b.cleanup();
  }
}

test('mount propagation: rslave receives host mounts, rprivate does not', { skip }, async () => {
  assert.equal(await propagationSeen('rslave'), true);
  assert.equal(await propagationSeen('rprivate'), false);
});

test('mounts made in the container never appear on the host', { skip }, () => {
  const host = mkdtempSync(path.join(tmpdir(), 'brig-prop-'));
  mkdirSync(path.join(host, 'sub'));
  try {
    const r = runIn(['sh', '-c', 'mount -t tmpfs t /shared/sub && echo MOUNTED'], (s) => {
      s.mounts!.push({ destination: '/shared', type: 'bind', source: host, options: ['rbind', 'rshared'] });
      s.process!.capabilities = {
        bounding: ['CAP_SYS_ADMIN'],
        effective: ['CAP_SYS_ADMIN'],
        permitted: ['CAP_SYS_ADMIN'],
      };
    });
    assert.match(r.stdout, /MOUNTED/, r.stderr);
    const mountinfo = execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' });
    assert.ok(!mountinfo.includes(path.join(host, 'sub')), 'container mount leaked to the host');
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});

test('a mount destination that is a symlink out of the rootfs stays inside it', { skip }, () => {
  const outside = mkdtempSync(path.join(tmpdir(), 'brig-outside-'));
  const b = makeBundle(['sh', '-c', 'ls /evil/ /evil2/ && echo OK'], (s) => {
    // No tmpfs on /tmp here: the links' targets must be created in the rootfs itself.
    s.mounts = s.mounts!.filter((m) => m.destination !== '/tmp');
    s.mounts!.push({ destination: '/evil/mnt', type: 'tmpfs', source: 'tmpfs', options: [] });
    s.mounts!.push({ destination: '/evil2/mnt', type: 'tmpfs', source: 'tmpfs', options: [] });
  });
  try {
    // Absolute and relative links that point at a host directory.
    symlinkSync(outside, path.join(b.rootfs, 'evil'));
    symlinkSync(`../../../../../../../../..${outside}`, path.join(b.rootfs, 'evil2'));
    const r = brigRuntime(b, ['run', 'symlink']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(outside), [], 'the host directory was touched');
    // The links resolved inside the rootfs instead.
    assert.ok(existsSync(path.join(b.rootfs, outside, 'mnt')));
    assert.deepEqual(leftovers(b), []);
  } finally {
    rmSync(outside, { recursive: true, force: true });
    b.cleanup();
  }
});

test('the classic chroot escape does not reach the host', { skip: skip || requires('helper') }, () => {
  // A file that exists only on the host: if the probe can stat it, it escaped.
  const marker = mkdtempSync(path.join(tmpdir(), 'brig-marker-'));
  try {
    const r = runIn(['probe', 'chroot-escape', marker], (s) => {
      const caps = ['CAP_SYS_CHROOT', 'CAP_DAC_OVERRIDE'];
      s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^contained$/m);
  } finally {
    rmSync(marker, { recursive: true, force: true });
  }
});

test('no host file descriptor reaches the container: only stdio', { skip }, () => {
  const r = runIn(['probe', 'fds']);
  assert.equal(r.code, 0, r.stderr);
  const fds = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0]);
  assert.deepEqual(fds, ['0', '1', '2'], r.stdout);
});

test('a cwd through a leaked fd path is refused (CVE-2024-21626)', { skip }, () => {
  for (let fd = 3; fd <= 9; fd++) {
    const r = runIn(['sh', '-c', 'pwd; ls ..'], (s) => {
      s.process!.cwd = `/proc/self/fd/${fd}`;
    });
    if (r.code === 0) {
      // Only acceptable if the directory is inside the container's root.
      assert.match(r.stdout, /^\//, `fd ${fd}: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /\(unreachable\)/);
    } else {
      assert.match(r.stderr, /process\.cwd/);
    }
  }
});

test('the helper runs from a sealed memfd, not the file on disk (CVE-2019-5736)', { skip }, async () => {
  const b = makeBundle(['sleep', '5']);
  try {
    const running = brigRuntimeAsync(b, ['run', 'memfd']);
    let exe = '';
    for (let i = 0; i < 100 && !exe; i++) {
      await new Promise((r) => setTimeout(r, 30));
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          const l = execFileSync('readlink', [`/proc/${pid}/exe`], { encoding: 'utf8' }).trim();
          if (l.includes('brig-helper')) exe = l;
        } catch {}
      }
    }
    brigRuntime(b, ['kill', 'memfd', 'KILL']);
    await running;
    assert.match(exe, /^\/memfd:brig-helper/);
  } finally {
    b.cleanup();
  }
});
