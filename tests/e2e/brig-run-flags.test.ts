/**
 * `brig run`/`create` flags through the real binary, each checked where it takes effect:
 * inside the container (/proc/self/status, its cgroup files, mounts) and on the host (the
 * container's cgroup under /sys/fs/cgroup/<controller>/brig/<id>). docker's defaults
 * (capabilities, seccomp, no_new_privs off so setuid programs work, /dev/shm, /etc files,
 * HOSTNAME), --init, --privileged, resources, security options, devices, files (--env-file,
 * --label-file, --cidfile), --entrypoint, --pull, exit codes 125/126/127, and bad input with
 * docker's messages and nothing left behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox', 'cgroup-v1');
const root = mkdtempSync(path.join(tmpdir(), 'brig-flags-'));
const data = path.join(root, 'data');
const { brig, ok, traces } = brigCli(data);
const IMAGE = 'localhost/flags:1';

/** A foreground --rm run's stdout; it must succeed. */
const out = (flags: string[], script: string, image = IMAGE) => ok(['run', '--rm', ...flags, image, 'sh', '-c', script]);
const status = (s: string, key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(s)?.[1];

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'grep', 'cat', 'true', 'touch', 'mkdir', 'df', 'ps', 'awk', 'head', 'stat', 'printf', 'env', 'hostname', 'dd', 'wc', 'tr', 'id', 'mknod', 'ls', 'test']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  mkdirSync(path.join(rootfs, 'tmp'), { mode: 0o1777 });
  // A setuid-root copy of the probe: `suid ids` shows whether exec raised the euid.
  copyFileSync(path.join(repoRoot, 'native/build/brig-probe'), path.join(rootfs, 'bin/suid'));
  chmodSync(path.join(rootfs, 'bin/suid'), 0o4755);
  // A program that exists but cannot be executed (docker's 126).
  writeFileSync(path.join(rootfs, 'bin/noexec'), '#!/bin/sh\necho never\n', { mode: 0o644 });
  spawnSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', path.join(root, 'img.tar'), '.']);
  ok(['import', path.join(root, 'img.tar'), IMAGE]);
});

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

test("docker's defaults: capabilities, seccomp, no_new_privs off (setuid works), /dev/shm 64m, /etc files, HOSTNAME, no TERM without -t", { skip }, () => {
  const s = out(['-u', '1000'], 'cat /proc/self/status; suid ids; df -k /dev/shm | tail -1; cat /etc/hostname /etc/hosts; env');
  assert.equal(status(s, 'NoNewPrivs'), '0');
  assert.equal(status(s, 'Seccomp'), '2');
  assert.equal(status(s, 'CapBnd'), '00000000a80425fb', "docker's 14 capabilities");
  assert.equal(status(s, 'CapEff'), '0000000000000000', 'none in effect for a non-root user');
  assert.match(s, /^uid=1000 euid=0 gid=1000 egid=1000$/m, 'the setuid program raised its euid');
  assert.match(s, /^shm\s+65536\s/m);
  assert.match(s, /^127\.0\.0\.1\tlocalhost$/m);
  const env = s.split('\n');
  assert.ok(env.some((l) => /^HOSTNAME=[0-9a-f]{12}$/.test(l)));
  assert.ok(!env.some((l) => l.startsWith('TERM=')), 'no TERM without a tty');
  assert.equal(status(out(['--security-opt', 'no-new-privileges'], 'cat /proc/self/status'), 'NoNewPrivs'), '1');
  assert.match(out(['-u', '1000', '--security-opt', 'no-new-privileges'], 'suid ids'), /^uid=1000 euid=1000 /, 'no_new_privs: setuid does nothing');
  assert.equal(out(['-h', 'box', '--domainname', 'example.org'], 'hostname; cat /proc/sys/kernel/domainname'), 'box\nexample.org\n');
});

test('--init: tini is pid 1, the command its child; zombies are reaped; inspect shows HostConfig.Init', { skip }, () => {
  const s = out(['--init'], 'cat /proc/1/cmdline | tr "\\0" " "; echo; (sleep 0 &); sleep 0.3; ps -o stat | grep -c Z || true');
  const [cmdline, zombies] = s.trim().split('\n');
  assert.match(cmdline!, /^\/sbin\/docker-init -- sh -c /);
  assert.equal(zombies, '0');
  const id = ok(['create', '--init', IMAGE, 'true']).trim();
  assert.equal(ok(['inspect', '-f', '{{.HostConfig.Init}} {{.Path}}', id]), 'true true\n', 'Path is the command, not the init');
  ok(['rm', id]);
});

test('--privileged: every capability brig holds, no seccomp, no masked paths, the host devices, a warning for what it lacks', { skip }, () => {
  const r = brig(['run', '--rm', '--privileged', IMAGE, 'sh', '-c', 'cat /proc/self/status; ls /dev; grep -c " /proc/keys " /proc/self/mountinfo || true']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(status(r.stdout, 'Seccomp'), '0');
  assert.equal(status(r.stdout, 'CapEff'), status(readTextSync('/proc/self/status'), 'CapBnd'));
  assert.match(r.stdout, /^loop-control$/m, "the host's device nodes");
  assert.match(r.stdout, /^0$/m, '/proc/keys is not masked');
  assert.match(out([], 'grep -c " /proc/keys " /proc/self/mountinfo || true'), /^1$/m, 'it is, by default');
  assert.match(r.stderr, /^WARNING: --privileged: the host withholds CAP_SYS_RESOURCE/m);
  // exec --privileged on an ordinary container.
  ok(['run', '-d', '--name', 'plain', IMAGE, 'sleep', '60']);
  assert.equal(status(ok(['exec', 'plain', 'cat', '/proc/self/status']), 'CapEff'), '00000000a80425fb');
  assert.equal(status(ok(['exec', '--privileged', 'plain', 'cat', '/proc/self/status']), 'CapEff'), status(readTextSync('/proc/self/status'), 'CapBnd'));
  ok(['rm', '-f', 'plain']);
});

test('resources land in the container\'s cgroup (seen from the host) and in inspect', { skip }, () => {
  const id = ok(['run', '-d', '-m', '64m', '--memory-reservation', '32m', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--pids-limit', '50', '--oom-score-adj', '300', IMAGE, 'sleep', '60']).trim();
  const cg = (c: string, f: string) => readTextSync(`/sys/fs/cgroup/${c}/brig/${id}/${f}`).trim();
  assert.equal(cg('memory', 'memory.limit_in_bytes'), String(64 << 20));
  assert.equal(cg('memory', 'memory.soft_limit_in_bytes'), String(32 << 20));
  assert.equal(cg('memory', 'memory.memsw.limit_in_bytes'), String(128 << 20), "docker's default: swap as much as memory");
  assert.deepEqual([cg('cpu', 'cpu.cfs_quota_us'), cg('cpu', 'cpu.cfs_period_us'), cg('cpu', 'cpu.shares')], ['50000', '100000', '512']);
  assert.equal(cg('cpuset', 'cpuset.cpus'), '0');
  assert.equal(cg('pids', 'pids.max'), '50');
  const pid = ok(['inspect', '-f', '{{.State.Pid}}', id]).trim();
  assert.equal(readTextSync(`/proc/${pid}/oom_score_adj`).trim(), '300');
  const hc = JSON.parse(ok(['inspect', '-f', '{{json .HostConfig}}', id])) as Record<string, unknown>;
  assert.deepEqual([hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.CpuShares, hc.PidsLimit, hc.CpusetCpus], [64 << 20, 128 << 20, 5e8, 512, 50, '0']);
  ok(['rm', '-f', id]);
  assert.deepEqual(traces(id), []);
  // A memory limit is a limit: a process allocating past it is OOM-killed (137).
  const oom = brig(['run', '--rm', '-m', '16m', '--memory-swap', '16m', IMAGE, 'sh', '-c', 'dd if=/dev/zero bs=64M count=1 | cat > /dev/null; x=$(head -c 40000000 /dev/zero | tr "\\0" a); echo survived']);
  assert.notEqual(oom.stdout, 'survived\n');
});

test('--ulimit, --read-only, --tmpfs, --shm-size, --sysctl, --group-add, --cap-add/--cap-drop', { skip }, () => {
  const s = out(
    ['--ulimit', 'nofile=100:200', '--ulimit', 'nproc=500', '--read-only', '--tmpfs', '/scratch:size=1m,mode=1777', '--shm-size', '8m', '--sysctl', 'net.ipv4.ip_forward=1', '--group-add', 'wheel', '--cap-drop', 'ALL', '--cap-add', 'net_admin', '--cap-add', 'CAP_CHOWN'],
    'ulimit -n; ulimit -Hn; ulimit -u; touch /x 2>&1; touch /scratch/ok && echo scratch-ok; df -k /scratch /dev/shm | tail -2; cat /proc/sys/net/ipv4/ip_forward; id; cat /proc/self/status',
  );
  const lines = s.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['100', '200', '500']);
  assert.match(s, /touch: \/x: Read-only file system/);
  assert.match(s, /^scratch-ok$/m);
  assert.match(s, /^tmpfs\s+1024\s/m);
  assert.match(s, /^shm\s+8192\s/m);
  assert.match(s, /^1$/m);
  assert.match(s, /groups=10\(wheel\)/);
  assert.equal(status(s, 'CapBnd'), '0000000000001001', 'CAP_CHOWN and CAP_NET_ADMIN only');
});

test('--ipc/--pid/--uts container:NAME join its namespaces, host ones are the host\'s (compared from the host by /proc/PID/ns), none has no /dev/shm', { skip }, () => {
  const ns = (pid: string | number, t: string) => readlinkSync(`/proc/${pid}/ns/${t}`);
  const pidOf = (c: string) => ok(['inspect', '-f', '{{.State.Pid}}', c]).trim();
  const ownerId = ok(['run', '-d', '--name', 'ns-owner', '--network', 'none', '--hostname', 'owner', '--ipc', 'shareable', '--shm-size', '2m', IMAGE, 'sleep', '300']).trim();
  ok(['exec', 'ns-owner', 'sh', '-c', 'echo from-owner > /dev/shm/probe']);
  ok(['run', '-d', '--name', 'ns-joiner', '--network', 'container:ns-owner', '--ipc', 'container:ns-owner', '--pid', 'container:ns-owner', '--uts', 'container:ns-owner', IMAGE, 'sleep', '300']);
  // POSIX shared memory is files in /dev/shm: the joiner has the owner's, both ways, at its size.
  assert.equal(ok(['exec', 'ns-joiner', 'cat', '/dev/shm/probe']), 'from-owner\n');
  ok(['exec', 'ns-joiner', 'sh', '-c', 'echo from-joiner > /dev/shm/back']);
  assert.equal(ok(['exec', 'ns-owner', 'cat', '/dev/shm/back']), 'from-joiner\n');
  assert.match(ok(['exec', 'ns-joiner', 'df', '-k', '/dev/shm']), /\s2048\s/);
  const shmMounts = () => readTextSync('/proc/self/mountinfo').split('\n').filter((l) => l.includes(`/containers/${ownerId}/shm`));
  assert.equal(shmMounts().length, 1, 'one tmpfs on the host, in the owner\'s directory');
  // docker's rule: a private IPC namespace (the default) cannot be joined.
  ok(['run', '-d', '--name', 'ns-private', '--network', 'none', IMAGE, 'sleep', '300']);
  const refused = brig(['run', '--rm', '--network', 'none', '--ipc', 'container:ns-private', IMAGE, 'true']);
  assert.equal(refused.code, 125);
  assert.match(refused.stderr, /non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
  ok(['rm', '-f', 'ns-private']);
  const [o, j] = [pidOf('ns-owner'), pidOf('ns-joiner')];
  for (const t of ['net', 'ipc', 'pid', 'uts']) assert.equal(ns(j, t), ns(o, t), `${t} shared`);
  assert.notEqual(ns(j, 'mnt'), ns(o, 'mnt'));
  assert.equal(ok(['exec', 'ns-joiner', 'hostname']), 'owner\n', "the owner's name in the shared uts namespace");
  assert.match(ok(['exec', 'ns-joiner', 'ps', '-o', 'args']), /sleep 300[\s\S]*sleep 300/, 'both processes in one pid namespace');
  assert.equal(ok(['inspect', '-f', '{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}} {{.HostConfig.UTSMode}}', 'ns-joiner']), 'container:ns-owner container:ns-owner container:ns-owner\n');
  // A stopped owner cannot be joined: the start fails naming it.
  ok(['stop', '-t', '0', 'ns-owner']);
  ok(['stop', '-t', '0', 'ns-joiner']);
  const r = brig(['start', 'ns-joiner']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot join .* of a non running container: ns-owner/);
  // A new start, a new shm: what the last run left is gone.
  ok(['start', 'ns-owner']);
  assert.equal(ok(['exec', 'ns-owner', 'ls', '/dev/shm']), '');
  assert.equal(shmMounts().length, 1);
  ok(['rm', '-f', 'ns-joiner', 'ns-owner']);
  assert.deepEqual(shmMounts(), [], 'unmounted with the container');
  // A foreground run --rm of a shareable one: its host tmpfs goes with it.
  assert.match(out(['--ipc', 'shareable', '--network', 'none', '--shm-size', '1m'], 'echo x > /dev/shm/f && cat /dev/shm/f && df -k /dev/shm'), /^x\n[\s\S]*\s1024\s/);
  assert.deepEqual(readTextSync('/proc/self/mountinfo').split('\n').filter((l) => l.includes(`${data}/containers/`)), [], 'no mount left in the data root');
  ok(['run', '-d', '--name', 'ns-host', '--network', 'none', '--ipc', 'host', '--pid', 'host', '--uts', 'host', IMAGE, 'sleep', '300']);
  const h = pidOf('ns-host');
  for (const t of ['ipc', 'pid', 'uts']) assert.equal(ns(h, t), ns(process.pid, t), `${t} is the host's`);
  assert.equal(ok(['exec', 'ns-host', 'hostname']), `${hostname()}\n`);
  ok(['rm', '-f', 'ns-host']);
  assert.equal(out(['--ipc', 'none', '--network', 'none'], 'test -e /dev/shm && echo shm || echo no-shm'), 'no-shm\n');
  const bad = brig(['run', '--rm', '--pid', 'container:nope', IMAGE, 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /no such container to join the PID namespace of: nope/);
});

test('--security-opt seccomp=FILE (docker\'s profile format) and seccomp=unconfined; --device with cgroup permissions; --device-cgroup-rule', { skip }, () => {
  const profile = path.join(root, 'no-mkdir.json');
  // docker's own format: everything allowed but mkdir/mkdirat, which fail with EPERM.
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
  assert.match(out(['--security-opt', `seccomp=${profile}`], 'mkdir /d 2>&1; echo rc=$?'), /Operation not permitted\nrc=1/);
  assert.equal(status(out(['--security-opt', 'seccomp=unconfined'], 'cat /proc/self/status'), 'Seccomp'), '0');
  // /dev/fuse from the host as /dev/myfuse, readable but not writable in the devices cgroup.
  const d = out(['--device', '/dev/fuse:/dev/myfuse:r'], 'ls -l /dev/myfuse; true < /dev/myfuse && echo read-ok; (true > /dev/myfuse) 2>&1 || echo write-denied');
  assert.match(d, /^crw.* 10,\s+229 .*\/dev\/myfuse$/m);
  assert.match(d, /^read-ok$/m);
  assert.match(d, /^write-denied$/m);
  // A node made inside (mknod is allowed, as docker) opens only where a rule allows it.
  const script = 'mknod /tmp/f c 10 229 && (true < /tmp/f) 2>/dev/null && echo opened || echo denied';
  assert.equal(out([], script), 'denied\n');
  assert.equal(out(['--device-cgroup-rule', 'c 10:229 r'], script), 'opened\n');
});

test('--env-file, --label-file, -e NAME from the caller, --entrypoint, --cidfile, --stop-signal/--stop-timeout in inspect', { skip }, () => {
  const envFile = path.join(root, 'env.list');
  writeFileSync(envFile, '# comment\nA=from-file\nB=b\nFROM_CALLER\n');
  const labelFile = path.join(root, 'labels');
  writeFileSync(labelFile, 'team=core\nbare\n');
  const r = spawnSync(path.join(process.cwd(), 'bin/brig'), ['run', '--rm', '--env-file', envFile, '-e', 'B=flag', '-e', 'UNSET_HERE', IMAGE, 'env'], { env: { ...process.env, BRIG_ROOT: data, FROM_CALLER: 'caller', UNSET_HERE: undefined }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const env = r.stdout.split('\n');
  for (const e of ['A=from-file', 'B=flag', 'FROM_CALLER=caller']) assert.ok(env.includes(e), `${e} in ${r.stdout}`);
  assert.ok(!env.some((e) => e.startsWith('UNSET_HERE')), 'a name unset on the host is left out');
  const cid = path.join(root, 'cid');
  const id = ok(['create', '--cidfile', cid, '--label-file', labelFile, '-l', 'x=y', '--entrypoint', 'echo', '--stop-signal', 'SIGUSR1', '--stop-timeout', '3', IMAGE, 'hello']).trim();
  assert.equal(readTextSync(cid), id);
  const again = brig(['create', '--cidfile', cid, IMAGE, 'true']);
  assert.equal(again.code, 125);
  assert.match(again.stderr, /Container ID file found, make sure the other container isn't running or delete/);
  const c = JSON.parse(ok(['inspect', id]))[0] as { Config: { Labels: Record<string, string>; Entrypoint: string[]; Cmd: string[]; StopSignal: string; StopTimeout: number }; Path: string; Args: string[] };
  assert.deepEqual(c.Config.Labels, { team: 'core', bare: '', x: 'y' });
  assert.deepEqual([c.Config.Entrypoint, c.Config.Cmd, c.Path, c.Args], [['echo'], ['hello'], 'echo', ['hello']]);
  assert.deepEqual([c.Config.StopSignal, c.Config.StopTimeout], ['SIGUSR1', 3]);
  assert.equal(ok(['start', '-a', id]), 'hello\n');
  ok(['rm', id]);
  // --entrypoint '' clears the image's entrypoint and runs the command given.
  assert.equal(ok(['run', '--rm', '--entrypoint', '', IMAGE, 'echo', 'no-entry']), 'no-entry\n');
});

test('exit codes: 125 when brig fails, 126 when the program cannot be run, 127 when it is not found, 137 for SIGKILL', { skip }, async () => {
  const noexec = brig(['run', '--rm', IMAGE, '/bin/noexec']);
  assert.equal(noexec.code, 126, noexec.stderr);
  assert.match(noexec.stderr, /permission denied|EACCES/i);
  const kept = brig(['run', '--name', 'ne', IMAGE, '/bin/noexec']);
  assert.equal(kept.code, 126, kept.stderr);
  ok(['rm', 'ne']);
  assert.equal(brig(['run', '--rm', IMAGE, 'no-such-program']).code, 127);
  // init killed from outside (pid 1 ignores a SIGKILL from inside its own namespace).
  const attached = spawn(BRIG, ['run', '--name', 'k9', IMAGE, 'sleep', '100'], { env: { ...process.env, BRIG_ROOT: data }, stdio: 'ignore' });
  const code = new Promise<number | null>((resolve) => attached.on('exit', resolve));
  for (let i = 0; i < 100 && !/running/.test(brig(['inspect', '-f', '{{.State.Status}}', 'k9']).stdout); i++) await new Promise((r) => setTimeout(r, 50));
  process.kill(Number(ok(['inspect', '-f', '{{.State.Pid}}', 'k9'])), 'SIGKILL');
  assert.equal(await code, 137);
  assert.equal(ok(['inspect', '-f', '{{.State.ExitCode}}', 'k9']), '137\n');
  ok(['rm', 'k9']);
  assert.equal(brig(['run', '--rm', '--nope', IMAGE]).code, 125);
});

test('--pull never refuses an image that is not here; missing (the default) says it is looking', { skip }, () => {
  const never = brig(['run', '--rm', '--pull', 'never', 'localhost/not-here:1', 'true']);
  assert.equal(never.code, 125);
  assert.match(never.stderr, /not-here/);
  assert.doesNotMatch(never.stderr, /Unable to find image/);
  const missing = brig(['run', '--rm', '127.0.0.1:1/not-here:1', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /^Unable to find image '127\.0\.0\.1:1\/not-here:1' locally$/m);
  const bad = brig(['run', '--rm', '--pull', 'sometimes', IMAGE, 'true']);
  assert.match(bad.stderr, /invalid pull option: 'sometimes'/);
});

test("bad values get docker's messages, exit 125, and leave no container, cgroup or directory", { skip }, () => {
  const before = readdirSync(path.join(data, 'containers')).sort();
  const cgroups = () => (existsSync('/sys/fs/cgroup/memory/brig') ? readdirSync('/sys/fs/cgroup/memory/brig') : []);
  const cgroupsBefore = new Set(cgroups());
  for (const [args, msg] of [
    [['-m', '1x'], /invalid argument "1x" for "--memory" flag: invalid size: '1x'/],
    [['-m', '1k'], /Minimum memory limit allowed is 6MB/],
    [['--cpus', 'lots'], /invalid argument "lots" for "--cpus" flag/],
    [['--cpus', '64'], /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available/],
    [['--cap-add', 'BOGUS'], /unknown capability: "CAP_BOGUS"/],
    [['--ulimit', 'nofile=999999'], /ulimit nofile: hard limit 999999 is above this host's \d+/],
    [['--sysctl', 'kernel.hostname=x'], /sysctl 'kernel.hostname' is not whitelisted/],
    [['--security-opt', 'bogus'], /invalid --security-opt 1: "bogus"/],
    [['--security-opt', `seccomp=${path.join(root, 'missing.json')}`], /opening seccomp profile/],
    [['--device', '/dev/nope'], /error gathering device information while adding custom device "\/dev\/nope"/],
    [['--tmpfs', 'relative'], /mount path must be absolute/],
    [['--network', 'nosuchnet'], /network nosuchnet not found/],
    [['-p', '80:80:80:80'], /invalid port specification/],
    [['-u', 'nosuchuser'], /unable to find user nosuchuser/],
    [['--env-file', path.join(root, 'no-such-file')], /no such file or directory/],
  ] as [string[], RegExp][]) {
    for (const mode of [['--rm'], ['-d']]) {
      const r = brig(['run', ...mode, ...args, IMAGE, 'true']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(' '));
    }
  }
  assert.deepEqual(readdirSync(path.join(data, 'containers')).sort(), before);
  assert.equal(brig(['ps', '-aq']).stdout, '');
  // Any new cgroup must hold processes (another test's live container), never be a leftover.
  const empty = cgroups().filter((c) => !cgroupsBefore.has(c) && readTextSync(`/sys/fs/cgroup/memory/brig/${c}/cgroup.procs`) === '');
  assert.deepEqual(empty, []);
  assert.ok(statSync(data).isDirectory());
});

test("update: limits change live in the container's cgroup, stay for the next start, and conflict as dockerd's", { skip }, () => {
  const id = ok(['run', '-d', '-m', '64m', IMAGE, 'sleep', '60']).trim();
  const cg = (c: string, f: string) => readTextSync(`/sys/fs/cgroup/${c}/brig/${id}/${f}`).trim();
  assert.equal(ok(['update', '-m', '100m', '--cpus', '0.5', '--pids-limit', '20', id]), `${id}\n`);
  assert.deepEqual([cg('memory', 'memory.limit_in_bytes'), cg('cpu', 'cpu.cfs_quota_us'), cg('pids', 'pids.max')], [String(100 << 20), '50000', '20']);
  const over = brig(['update', '-m', '200m', id]);
  assert.equal(over.code, 1);
  assert.match(over.stderr, /Cannot update container .*: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
  assert.match(brig(['update', '--cpu-period', '50000', id]).stderr, /CPU Period cannot be updated as NanoCPUs has already been set/);
  assert.match(brig(['update', id]).stderr, /you must provide one or more flags/);
  ok(['stop', '-t', '0', id]);
  ok(['update', '--pids-limit', '30', id]);
  ok(['start', id]);
  assert.equal(cg('pids', 'pids.max'), '30', 'kept for the next start');
  assert.equal(ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}', id]), `${100 << 20} 500000000 30\n`);
  ok(['rm', '-f', id]);
});

test('inspect -s: SizeRw (what the container wrote) and SizeRootFs (with its image), only when asked', { skip }, () => {
  const id = ok(['run', '-d', IMAGE, 'sh', '-c', 'head -c 5000 /dev/zero > /written; sleep 60']).trim();
  for (let i = 0; i < 100 && brig(['exec', id, 'stat', '/written']).code !== 0; i++) spawnSync('sleep', ['0.05']);
  const [rw, rootFs] = ok(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', id]).trim().split(' ').map(Number);
  assert.ok(rw! >= 5000 && rw! < 100_000, `SizeRw ${rw}`);
  assert.ok(rootFs! > rw! + 500_000, `SizeRootFs ${rootFs} counts the image (busybox) too`);
  assert.equal(ok(['inspect', '-f', '{{.SizeRw}}', id]), '<no value>\n', 'not computed unless asked');
  ok(['rm', '-f', id]);
});
