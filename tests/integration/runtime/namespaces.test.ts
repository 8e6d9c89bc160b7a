/**
 * User, time and joined namespaces, sysctls and devices.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Spec } from '../../../src/runtime/spec/types.js';
import { brigRuntime, leftovers, makeBundle, runIn } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox', 'userns');
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

/** As podman does for user-namespaced containers: the rootfs belongs to the mapped root. */
function runMapped(args: string[], edit: (s: Spec) => void) {
  const b = makeBundle(args, edit);
  try {
    execFileSync('chown', ['-R', '-h', '100000:100000', b.rootfs]);
    const r = brigRuntime(b, ['run', 'mapped']);
    return { ...r, leftovers: leftovers(b) };
  } finally {
    b.cleanup();
  }
}

test('a user-namespace mapping shows as file ownership on the host', { skip }, () => {
  const host = mkdtempSync(path.join(tmpdir(), 'brig-userns-'));
  chmodSync(host, 0o777);
  try {
    const r = runMapped(['sh', '-c', 'touch /data/by-root; id -u; cat /proc/self/uid_map'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = MAP;
      s.linux!.gidMappings = MAP;
      s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^0$/m);
    assert.match(r.stdout, /^\s+0\s+100000\s+65536$/m);
    const st = statSync(path.join(host, 'by-root'));
    assert.equal(st.uid, 100000);
    assert.equal(st.gid, 100000);
    assert.deepEqual(r.leftovers, []);
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});

test('a non-root user inside a user namespace maps to its host id', { skip }, () => {
  const host = mkdtempSync(path.join(tmpdir(), 'brig-userns-'));
  chmodSync(host, 0o777);
  try {
    const r = runMapped(['touch', '/data/by-1000'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = MAP;
      s.linux!.gidMappings = MAP;
      s.process!.user = { uid: 1000, gid: 1000 };
      s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(path.join(host, 'by-1000')).uid, 101000);
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});

test('a time namespace applies the monotonic and boottime offsets', { skip }, () => {
  const r = runIn(['cat', '/proc/uptime'], (s) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: 864000, nanosecs: 0 } };
  });
  assert.equal(r.code, 0, r.stderr);
  const uptime = Number(r.stdout.split(' ')[0]);
  const hostUptime = Number(execFileSync('cat', ['/proc/uptime'], { encoding: 'utf8' }).split(' ')[0]);
  assert.ok(uptime - hostUptime > 863000, `uptime ${uptime} vs host ${hostUptime}`);
});

test('joining an existing network namespace by path', { skip }, async () => {
  // A process in its own netns, marked by a sysctl value we can recognise from inside.
  const holder = spawn(
    'unshare',
    ['--net', 'sh', '-c', 'echo 77 > /proc/sys/net/ipv4/ip_default_ttl && exec sleep 30'],
    { stdio: 'ignore' },
  );
  try {
    let nsPath = '';
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 30));
      try {
        const ttl = execFileSync(
          'nsenter',
          ['-t', String(holder.pid), '-n', 'cat', '/proc/sys/net/ipv4/ip_default_ttl'],
          { encoding: 'utf8' },
        );
        if (ttl.trim() === '77') {
          nsPath = `/proc/${holder.pid}/ns/net`;
          break;
        }
      } catch {}
    }
    assert.ok(nsPath, 'test netns not ready');
    const r = runIn(['cat', '/proc/sys/net/ipv4/ip_default_ttl'], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === 'network' ? { type: 'network', path: nsPath } : n,
      );
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '77');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('namespaced sysctls are written in the container only', { skip }, () => {
  const r = runIn(['cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmni'], (s) => {
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' };
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1\n1234\n');
  assert.notEqual(execFileSync('cat', ['/proc/sys/kernel/shmmni'], { encoding: 'utf8' }).trim(), '1234');
});

test('devices: default nodes exist with their modes, extra devices are created, and opened only where a rule allows (as runc)', { skip }, () => {
  const r = runIn(
    [
      'sh',
      '-c',
      'stat -c "%n %F %t:%T %a %u:%g" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/fuse; ls -l /dev/fd /dev/ptmx | grep -o "\\-> .*"; (true < /dev/fuse) 2>/dev/null && echo fuse-opened || echo fuse-denied',
    ],
    (s) => {
      s.linux!.devices = [
        { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600, uid: 5, gid: 6 },
      ];
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/dev\/null character special file 1:3 666 0:0$/m);
  assert.match(r.stdout, /^\/dev\/tty character special file 5:0 666 0:0$/m);
  assert.match(r.stdout, /^\/dev\/fuse character special file a:e5 600 5:6$/m);
  assert.match(r.stdout, /-> \/proc\/self\/fd$/m);
  assert.match(r.stdout, /-> pts\/ptmx$/m);
  assert.match(r.stdout, /^fuse-denied$/m, 'no rule in linux.resources.devices allows it');
});

test('an id-mapped bind mount shows host-root files as the container root, and writes back as host root', { skip }, () => {
  const host = mkdtempSync(path.join(tmpdir(), 'brig-idmap-'));
  chmodSync(host, 0o755);
  writeFileSync(path.join(host, 'owned-by-host-root'), 'x');
  try {
    const r = runMapped(['sh', '-c', 'stat -c "%u %g" /data/owned-by-host-root; touch /data/made-inside && echo WROTE; stat -c "%u" /plain/owned-by-host-root'], (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = MAP;
      s.linux!.gidMappings = MAP;
      // No mappings on the mount: the container's own (0 -> 100000) are used.
      s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'idmap'] });
      s.mounts!.push({ destination: '/plain', type: 'bind', source: host, options: ['rbind'] });
    });
    assert.equal(r.code, 0, r.stderr);
    const [idmapped, wrote, plain] = r.stdout.trim().split('\n');
    assert.equal(idmapped, '0 0');
    assert.equal(wrote, 'WROTE');
    assert.equal(plain, '65534'); // unmapped without idmap: the overflow id
    assert.equal(statSync(path.join(host, 'made-inside')).uid, 0);
    assert.deepEqual(r.leftovers, []);
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});

test('explicit mount mappings shift ids on the mount only', { skip }, () => {
  const host = mkdtempSync(path.join(tmpdir(), 'brig-idmap-'));
  chmodSync(host, 0o755);
  writeFileSync(path.join(host, 'f'), 'x');
  writeFileSync(path.join(host, 'g'), 'x');
  chownSync(path.join(host, 'g'), 2000, 2000);
  try {
    // As runc: the mapping's containerID is the id on disk, hostID what the mount shows.
    // On-disk 0 shows as 2000; on-disk 2000 has no mapping and shows as the overflow id.
    const r = runIn(['stat', '-c', '%u %g', '/data/f', '/data/g', '/plain/f'], (s) => {
      s.mounts!.push({
        destination: '/data',
        type: 'bind',
        source: host,
        options: ['rbind', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 2000, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: 2000, size: 1 }],
      });
      s.mounts!.push({ destination: '/plain', type: 'bind', source: host, options: ['rbind'] });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '2000 2000\n65534 65534\n0 0\n');
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});
