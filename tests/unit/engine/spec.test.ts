/**
 * The engine's spec compiler without root: a request (docker's ContainerConfig +
 * HostConfig) and an image config in, the OCI spec and inspect's Config/HostConfig out,
 * with dockerd's rules and messages; and the flag parsers that make the request.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseCpus, parseDevice, parseUlimit, readKeyValueFile } from '../../../src/cli/brig/commands/container/create-options.js';
import type { ContainerCreateRequest, HostConfig } from '../../../src/engine/containers/config.js';
import { containerCapabilities, DOCKER_DEFAULT_CAPS } from '../../../src/engine/spec/capabilities.js';
import { joinNamespaces } from '../../../src/engine/containers/namespaces.js';
import { boundShm, joinedShm, shmMountArgs, withShm } from '../../../src/engine/containers/shared-shm.js';
import { buildContainerSpec, mergeWithImage } from '../../../src/engine/spec/container-spec.js';
import type { BrigError } from '../../../src/errors/index.js';
import { hostsFile, resolvConfFile } from '../../../src/engine/spec/etc-files.js';
import type { EngineHost } from '../../../src/engine/spec/host.js';
import { capabilityNames } from '../../../src/engine/spec/host.js';
import { parseCpuset, resourcePlan } from '../../../src/engine/spec/resources.js';
import { dockerSeccompProfile } from '../../../src/engine/spec/seccomp-profile.js';
import { parseSecurityOpts } from '../../../src/engine/spec/security-opts.js';
import { mergeTmpfsOptions } from '../../../src/engine/spec/tmpfs.js';
import type { ImageConfig } from '../../../src/image/manifest.js';
import { CAPABILITIES } from '../../../src/runtime/linux/constants.js';
import { readTextSync } from '../../../src/util/read-text.js';

const dir = mkdtempSync(path.join(tmpdir(), 'brig-spec-'));
const rootfs = path.join(dir, 'rootfs');
mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\naudio:x:29:\n');
after(() => rmSync(dir, { recursive: true, force: true }));

const HELD = (CAPABILITIES as readonly string[]).filter((c) => c !== 'CAP_SYS_RESOURCE');
const HOST: EngineHost = {
  capabilities: HELD,
  kernelCapabilities: [...CAPABILITIES],
  cpus: 2,
  onlineCpus: '0-1',
  onlineMems: '0',
  memTotal: 24 << 30,
  hardLimits: { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: 96365 },
  swapLimit: true,
  init: { path: '/usr/bin/tini-static' },
  resolvConf: 'nameserver 127.0.0.53\nsearch example.org\n',
};

const IMAGE: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'], Entrypoint: ['/entry'], Cmd: ['serve'], WorkingDir: 'srv', Labels: { from: 'image', both: 'image' }, StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {} } },
  rootfs: { type: 'layers', diff_ids: [] },
};

function build(req: Partial<ContainerCreateRequest>, host: HostConfig = {}, image = IMAGE) {
  return buildContainerSpec({ id: 'a'.repeat(64), request: { Image: 'img', ...req, HostConfig: host }, image, rootfs: { path: rootfs }, etcDir: '/c', host: HOST, kernel: '6.18.0', arch: 'x86_64' });
}

test("the request is merged with the image as dockerd merges them; inspect's Config shows the result", async () => {
  const m = mergeWithImage({ Image: 'x', Env: ['LANG=fr', 'A=1'], Labels: { both: 'req' } }, IMAGE.config!);
  assert.deepEqual(m.Env, ['LANG=fr', 'A=1', 'PATH=/usr/bin:/bin'], "the container's own first, then the image's not overridden");
  assert.deepEqual(m.Labels, { from: 'image', both: 'req' });
  assert.deepEqual([m.Entrypoint, m.Cmd], [['/entry'], ['serve']]);
  // --entrypoint '' clears the image's; the image's Cmd stays when none is given.
  const cleared = mergeWithImage({ Image: 'x', Entrypoint: [] }, IMAGE.config!);
  assert.deepEqual([cleared.Entrypoint, cleared.Cmd], [[], ['serve']]);
  // An entrypoint given drops the image's Cmd.
  const own = mergeWithImage({ Image: 'x', Entrypoint: ['/bin/sh'] }, IMAGE.config!);
  assert.deepEqual([own.Entrypoint, own.Cmd], [['/bin/sh'], undefined]);
  const b = await build({ Cmd: ['x'] });
  assert.deepEqual(b.config.Cmd, ['x']);
  assert.equal(b.config.StopSignal, 'SIGQUIT');
  assert.equal(b.config.Hostname, 'aaaaaaaaaaaa');
  assert.deepEqual(b.spec.process!.args, ['/entry', 'x']);
  assert.equal(b.spec.process!.cwd, '/srv');
});

test("docker's defaults: env order, no TERM without a tty, no_new_privs off, docker's caps, seccomp, masked paths, 64 MiB shm, nofile", async () => {
  const b = await build({});
  const p = b.spec.process!;
  assert.deepEqual(p.env, ['PATH=/usr/bin:/bin', 'HOSTNAME=aaaaaaaaaaaa', 'LANG=C.UTF-8', 'HOME=/root']);
  assert.equal(p.noNewPrivileges, false);
  assert.deepEqual(new Set(p.capabilities!.bounding), new Set(DOCKER_DEFAULT_CAPS));
  assert.ok(b.spec.linux!.seccomp, 'the default profile');
  assert.ok(b.spec.linux!.maskedPaths!.includes('/proc/kcore'));
  assert.ok(b.spec.linux!.readonlyPaths!.includes('/proc/sys'));
  assert.deepEqual(p.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }], 'within the host hard limit');
  const shm = b.spec.mounts!.find((m) => m.destination === '/dev/shm')!;
  assert.ok(shm.options!.includes(`size=${64 * 1024 * 1024}`));
  for (const f of ['hostname', 'hosts', 'resolv.conf']) assert.ok(b.spec.mounts!.some((m) => m.destination === `/etc/${f}` && m.source === `/c/${f}`), f);
  assert.equal(b.etc.hostname, 'aaaaaaaaaaaa\n');
  assert.equal(b.hostConfig.ShmSize, 64 * 1024 * 1024);
  const tty = await build({ Tty: true, Env: ['TERM=dumb'] });
  assert.ok(tty.spec.process!.env!.includes('TERM=dumb'), "the container's TERM wins over docker's xterm");
  assert.ok((await build({ Tty: true })).spec.process!.env!.includes('TERM=xterm'));
});

test('user: a name from the image passwd, HOME from it, its groups, --group-add, no effective caps for non-root', async () => {
  const b = await build({ User: 'app' }, { GroupAdd: ['audio', '4242'] });
  const p = b.spec.process!;
  assert.deepEqual(p.user, { uid: 1000, gid: 1000, additionalGids: [10, 29, 4242] });
  assert.ok(p.env!.includes('HOME=/home/app'));
  assert.deepEqual(p.capabilities!.effective, []);
  await assert.rejects(build({ User: 'nobody' }), /unable to find user nobody/);
});

test('--privileged: every capability brig holds, with a warning for the rest; no seccomp, no masked paths, all devices, rw /sys', async () => {
  const b = await build({}, { Privileged: true });
  assert.deepEqual(b.spec.process!.capabilities!.bounding, HELD);
  assert.match(b.warnings.join('\n'), /withholds CAP_SYS_RESOURCE/);
  assert.equal(b.spec.linux!.seccomp, undefined);
  assert.deepEqual([b.spec.linux!.maskedPaths, b.spec.linux!.readonlyPaths], [[], []]);
  assert.deepEqual(b.spec.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(!b.spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.ok((b.spec.linux!.devices ?? []).some((d) => d.path === '/dev/null'), "the host's /dev");
});

test("capabilities by docker's rules", () => {
  const caps = (add: string[], drop: string[]) => containerCapabilities({ privileged: false, add, drop }, HELD).caps;
  assert.deepEqual(caps(['net_admin'], ['CAP_CHOWN', 'mknod']).sort(), [...DOCKER_DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN'].sort());
  assert.deepEqual(caps(['NET_ADMIN'], ['ALL']), ['CAP_NET_ADMIN']);
  assert.deepEqual(caps(['ALL'], ['sys_admin']), HELD.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.throws(() => caps(['FOO'], []), /unknown capability: "CAP_FOO"/);
  assert.throws(() => caps(['SYS_RESOURCE'], []), /CAP_SYS_RESOURCE: the host withholds this capability from brig/);
  assert.deepEqual(capabilityNames(0x3n, 40), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
});

test("resources: docker's mapping and dockerd's messages", () => {
  const r = resourcePlan({ Memory: 64 << 20, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '1', PidsLimit: 50, BlkioWeight: 300, OomScoreAdj: 500, MemoryReservation: 32 << 20 }, HOST);
  assert.deepEqual(r.resources.memory, { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20 }, 'swap defaults to twice the memory');
  assert.deepEqual(r.adjusted, { MemorySwap: 128 << 20 });
  assert.deepEqual(r.resources.cpu, { period: 100000, quota: 150000, shares: 512, cpus: '1' });
  assert.deepEqual(r.resources.pids, { limit: 50 });
  assert.deepEqual(r.resources.blockIO, { weight: 300 });
  assert.equal(r.oomScoreAdj, 500);
  assert.deepEqual(resourcePlan({ Memory: 64 << 20, MemorySwap: -1 }, HOST).resources.memory, { limit: 64 << 20, swap: -1 });
  const noSwap = resourcePlan({ Memory: 64 << 20 }, { ...HOST, swapLimit: false });
  assert.equal(noSwap.resources.memory!.swap, undefined);
  const cases: [HostConfig, RegExp][] = [
    [{ Memory: 1024 }, /^Minimum memory limit allowed is 6MB$/],
    [{ MemorySwap: 1 << 30 }, /You should always set the Memory limit when using Memoryswap limit/],
    [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, /Minimum memoryswap limit should be larger than memory limit/],
    [{ Memory: 16 << 20, MemoryReservation: 32 << 20 }, /Minimum memory limit can not be less than memory reservation limit/],
    [{ MemorySwappiness: 101 }, /valid memory swappiness range is 0-100/],
    [{ NanoCpus: 3e9 }, /^Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/],
    [{ NanoCpus: 1e9, CpuPeriod: 100000 }, /Nano CPUs and CPU Period cannot both be set/],
    [{ CpuPeriod: 10 }, /CPU cfs period can not be less than 1ms/],
    [{ CpuQuota: 10 }, /CPU cfs quota can not be less than 1ms/],
    [{ CpusetCpus: '0-3' }, /^Requested CPUs are not available - requested 0-3, available: 0-1$/],
    [{ CpusetCpus: 'x' }, /Invalid value x for cpuset cpus/],
    [{ BlkioWeight: 5 }, /Range of blkio weight is from 10 to 1000/],
    [{ OomScoreAdj: 1001 }, /range for oom score adj is \[-1000, 1000\]/],
    [{ Ulimits: [{ Name: 'nofile', Soft: 30000, Hard: 30000 }] }, /ulimit nofile: hard limit 30000 is above this host's 20000/],
    [{ Ulimits: [{ Name: 'nofile', Soft: 200, Hard: 100 }] }, /soft limit must be less than or equal to hard limit: 200 > 100/],
    [{ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }, /invalid ulimit type: bogus/],
  ];
  for (const [h, re] of cases) assert.throws(() => resourcePlan(h, HOST), (e: Error & { field?: string }) => re.test(e.message) && (e.field ?? '').startsWith('HostConfig.'), JSON.stringify(h));
  assert.deepEqual(resourcePlan({ Ulimits: [{ Name: 'nproc', Soft: 100, Hard: 200 }] }, HOST).rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
    { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
  ]);
  assert.deepEqual([...parseCpuset('0-2,5')!], [0, 1, 2, 5]);
});

test('security options: seccomp from a docker profile, unconfined, no-new-privileges, systempaths; apparmor and labels said plainly', async () => {
  assert.deepEqual(parseSecurityOpts(['no-new-privileges', 'seccomp=unconfined']), { seccomp: 'unconfined', noNewPrivileges: true, unmaskSystemPaths: false, warnings: [] });
  assert.equal(parseSecurityOpts(['no-new-privileges:false']).noNewPrivileges, false);
  assert.throws(() => parseSecurityOpts(['bogus']), /invalid --security-opt 1: "bogus"/);
  assert.throws(() => parseSecurityOpts(['apparmor=docker-default']), /AppArmor is not enabled on this host/);
  assert.match(parseSecurityOpts(['label=disable']).warnings[0]!, /no SELinux/);
  const profile = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm'] } },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_PTRACE'] } },
    ],
  });
  const s = dockerSeccompProfile(profile, { caps: DOCKER_DEFAULT_CAPS, nativeArch: 'SCMP_ARCH_X86_64', kernel: '6.18.0' });
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(s.syscalls!.map((x) => x.names[0]), ['read', 'ptrace', 'personality']);
  const b = await build({}, { SecurityOpt: [`seccomp=${profile}`, 'no-new-privileges'] });
  assert.equal(b.spec.linux!.seccomp!.syscalls!.length, 3);
  assert.equal(b.spec.process!.noNewPrivileges, true);
  assert.equal((await build({}, { SecurityOpt: ['seccomp=unconfined'] })).spec.linux!.seccomp, undefined);
  const open = await build({}, { SecurityOpt: ['systempaths=unconfined'] });
  assert.deepEqual(open.spec.linux!.maskedPaths, []);
  assert.throws(() => dockerSeccompProfile('{', { caps: [], nativeArch: 'SCMP_ARCH_X86_64', kernel: '6.1' }), /seccomp profile: not JSON/);
});

test('--init, --read-only, --tmpfs, --shm-size, sysctls, device rules; what is not supported yet is refused by field', async () => {
  const b = await build({ Cmd: ['a'] }, { Init: true, ReadonlyRootfs: true, Tmpfs: { '/run': 'size=1m,exec' }, ShmSize: 8 << 20, Sysctls: { 'net.ipv4.ip_forward': '1' }, DeviceCgroupRules: ['c 42:* rmw'] });
  assert.deepEqual(b.spec.process!.args, ['/sbin/docker-init', '--', '/entry', 'a']);
  assert.ok(b.spec.mounts!.some((m) => m.destination === '/sbin/docker-init' && m.source === '/usr/bin/tini-static'));
  assert.equal(b.spec.root!.readonly, true);
  assert.ok(b.spec.mounts!.find((m) => m.destination === '/etc/hosts')!.options!.includes('ro'));
  assert.deepEqual(b.spec.mounts!.find((m) => m.destination === '/run')!.options, ['nosuid', 'nodev', 'size=1m', 'exec']);
  assert.ok(b.spec.mounts!.find((m) => m.destination === '/dev/shm')!.options!.includes(`size=${8 << 20}`));
  assert.deepEqual(b.spec.linux!.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.ok(b.spec.linux!.resources!.devices!.some((d) => d.major === 42 && d.minor === -1 && d.access === 'rmw'));
  await assert.rejects(build({}, { Sysctls: { 'kernel.hostname': 'x' } }), /sysctl 'kernel.hostname' is not whitelisted/);
  await assert.rejects(build({}, { CgroupnsMode: 'host' }), /HostConfig.CgroupnsMode "host" is not supported yet/);
  await assert.rejects(build({}, { Init: true }, IMAGE).then(() => buildContainerSpec({ id: 'b'.repeat(64), request: { Image: 'i', HostConfig: { Init: true } }, image: IMAGE, rootfs: { path: rootfs }, etcDir: '/c', host: { ...HOST, init: { missing: 'no init here' } }, kernel: '6.1', arch: 'x86_64' })), /--init: no init here/);
  await assert.rejects(build({ WorkingDir: 'rel' }), /the working directory 'rel' is invalid/);
  await assert.rejects(build({}, { Tmpfs: { '/x': 'bogus' } }), /Invalid tmpfs option/);
  await assert.rejects(build({ Entrypoint: [], Cmd: [] }, {}, { ...IMAGE, config: {} }), /no command specified/);
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rw', 'exec', 'size=1m', 'size=2m'], 'f'), ['nosuid', 'nodev', 'rw', 'exec', 'size=2m']);
});

test('--ipc, --pid, --uts: host drops the namespace (and the names), container: keeps it for the start to join, none has no /dev/shm', async () => {
  const types = (b: Awaited<ReturnType<typeof build>>) => b.spec.linux!.namespaces!.map((n) => n.type).sort();
  await assert.rejects(build({ Hostname: 'mine' }, { UTSMode: 'host' }), /conflicting options: hostname and the UTS mode/);
  const host = await build({}, { IpcMode: 'host', PidMode: 'host', UTSMode: 'host' });
  assert.deepEqual(types(host), ['cgroup', 'mount', 'network']);
  assert.equal(host.spec.hostname, undefined, "the host's uts namespace keeps the host's name");
  assert.deepEqual(host.spec.mounts!.find((m) => m.destination === '/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  assert.deepEqual([host.hostConfig.IpcMode, host.hostConfig.PidMode, host.hostConfig.UTSMode], ['host', 'host', 'host']);
  const joined = await build({}, { IpcMode: 'container:infra', PidMode: 'container:infra', UTSMode: 'container:infra' });
  assert.deepEqual(types(joined), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
  assert.equal(joined.spec.hostname, undefined, "a joined uts namespace keeps its owner's name");
  const none = await build({}, { IpcMode: 'none' });
  assert.equal(none.spec.mounts!.find((m) => m.destination === '/dev/shm'), undefined);
  await assert.rejects(build({}, { IpcMode: 'bogus' }), /invalid IPC mode: bogus/);
  await assert.rejects(build({}, { PidMode: 'private' }), /invalid PID mode: private/);
  await assert.rejects(build({}, { UTSMode: 'container:' }), /invalid UTS mode: container:/);
});

test('joinNamespaces puts the running owner\'s /proc/PID/ns paths in; a stopped owner or itself is refused by field', async () => {
  const b = await build({}, { IpcMode: 'container:infra', UTSMode: 'container:infra' });
  const owner = async (ref: string) => ({ id: 'i'.repeat(64), name: ref, pid: ref === 'infra' ? 4242 : 0 });
  const spec = await joinNamespaces(b.spec, { IpcMode: 'container:infra', UTSMode: 'container:infra' }, 'a'.repeat(64), owner);
  assert.deepEqual(spec.linux!.namespaces!.filter((n) => n.path), [{ type: 'ipc', path: '/proc/4242/ns/ipc' }, { type: 'uts', path: '/proc/4242/ns/uts' }]);
  await assert.rejects(joinNamespaces(b.spec, { PidMode: 'container:down' }, 'x', owner), (e: BrigError) => e.code === 'CONTAINER_NOT_RUNNING' && e.field === 'HostConfig.PidMode');
  await assert.rejects(joinNamespaces(b.spec, { PidMode: 'container:infra' }, 'i'.repeat(64), owner), /cannot join own PID namespace/);
});

test('/dev/shm: a shareable container binds its host tmpfs from its directory; a joiner gets the donor\'s, the host\'s, or docker\'s refusal', async () => {
  const shareable = await build({}, { IpcMode: 'shareable', ShmSize: 1 << 20 });
  assert.deepEqual(shareable.spec.mounts!.find((m) => m.destination === '/dev/shm'), { destination: '/dev/shm', type: 'bind', source: '/c/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  assert.equal(shareable.hostConfig.ShmSize, 1 << 20, 'the size the start mounts it with');
  assert.deepEqual(shmMountArgs('/c/shm', 1 << 20), ['tmpfs', '/c/shm', 's:source=shm', `s:size=${1 << 20}`, 's:mode=1777', 'a:nosuid', 'a:noexec', 'a:nodev']);
  const priv = await build({}, {});
  assert.equal(priv.spec.mounts!.find((m) => m.destination === '/dev/shm')!.type, 'tmpfs', 'private: its own tmpfs, inside the container');
  assert.deepEqual(joinedShm({ id: 'd', ipcMode: 'shareable', dir: '/data/containers/d' }), { destination: '/dev/shm', type: 'bind', source: '/data/containers/d/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  assert.equal(joinedShm({ id: 'd', ipcMode: 'host', dir: '/x' }).source, '/dev/shm');
  for (const mode of ['private', undefined, 'container:other']) {
    assert.throws(
      () => joinedShm({ id: 'd'.repeat(64), ipcMode: mode, dir: '/x' }),
      (e: BrigError) => e.field === 'HostConfig.IpcMode' && e.message === `container ${'d'.repeat(64)}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`,
    );
  }
  // Replaced where it was (after /dev), added at the end where there was none (--ipc none is not joinable anyway).
  const mounts = priv.spec.mounts!;
  const replaced = withShm(mounts, boundShm('/s'));
  assert.equal(replaced.length, mounts.length);
  assert.equal(replaced.findIndex((m) => m.source === '/s'), mounts.findIndex((m) => m.destination === '/dev/shm'));
  assert.deepEqual(withShm([], boundShm('/s')), [boundShm('/s')]);
});

test("/etc/hosts and /etc/resolv.conf as docker writes them for a container without a network", () => {
  assert.equal(hostsFile().split('\n')[0], '127.0.0.1\tlocalhost');
  assert.equal(resolvConfFile('nameserver 127.0.0.53\nsearch example.org\n'), 'search example.org\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConfFile('nameserver 10.0.0.2\nnameserver ::1\n'), 'nameserver 10.0.0.2\n');
});

test("run's flags read as docker's CLI reads them", () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
  assert.deepEqual(parseUlimit('core=-1'), { Name: 'core', Soft: -1, Hard: -1 });
  assert.throws(() => parseUlimit('nofile'), /invalid argument "nofile" for "--ulimit" flag/);
  assert.deepEqual(parseDevice('/dev/sda'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/sda:r'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' });
  assert.deepEqual(parseDevice('/dev/sda:/dev/xvda:rw'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rw' });
  assert.throws(() => parseDevice('/dev/sda:/dev/xvda:rwx'), /invalid device mode: rwx/);
  assert.equal(parseCpus('1.5'), 1.5e9);
  assert.equal(parseCpus('.25'), 0.25e9);
  assert.throws(() => parseCpus('two'), /failed to parse two as a rational number/);
  const f = path.join(dir, 'env');
  writeFileSync(f, '# comment\n\n  A=1\nB= spaced \nFROM_HOST\nNOT_SET\n');
  assert.deepEqual(readKeyValueFile(f, dir, (k) => (k === 'FROM_HOST' ? 'h' : undefined), 'env-file'), ['A=1', 'B= spaced ', 'FROM_HOST=h']);
  writeFileSync(f, 'BAD KEY=1\n');
  assert.throws(() => readKeyValueFile(f, dir, undefined, 'env-file'), /variable 'BAD KEY' contains whitespaces/);
  writeFileSync(f, Buffer.from([0x41, 0x3d, 0xff, 0x0a]));
  assert.throws(() => readKeyValueFile(f, dir, undefined, 'env-file'), /contains invalid utf8 bytes/);
});

test('the version info reports is the package version', async () => {
  const { BRIG_VERSION } = await import('../../../src/engine/version.js');
  const pkg = JSON.parse(readTextSync(new URL('../../../../package.json', import.meta.url))) as { version: string };
  assert.equal(BRIG_VERSION, pkg.version);
});
