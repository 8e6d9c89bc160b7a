/**
 * A real client: Debian's containerd (started here on its own socket and state dirs) runs
 * containers through brig-runtime with `ctr run --runc-binary`, its runc shim driving
 * create/start/state/kill/delete/exec. The image is one brig saves as an oci-archive.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { repoRoot, requires } from '../support/requires.js';

const RUNTIME = path.join(repoRoot, 'bin', 'brig-runtime');
const skip = requires('root', 'helper', 'busybox') || (existsSync('/usr/bin/containerd') ? false : 'containerd not installed');
const dir = mkdtempSync(path.join(tmpdir(), 'brig-ctrd-'));
const sock = path.join(dir, 'containerd.sock');
let daemon: ChildProcess | undefined;

function ctr(args: string[]) {
  const r = spawnSync('ctr', ['--address', sock, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  if (skip) return;
  writeFileSync(
    path.join(dir, 'config.toml'),
    `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n[debug]\n  address = "${dir}/debug.sock"\n[plugins."io.containerd.grpc.v1.cri"]\n  disable = true\n`,
  );
  daemon = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: 'ignore' });
  for (let i = 0; i < 100 && ctr(['version']).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  // The image: a busybox rootfs imported and saved as an oci-archive by brig.
  const rootfs = await makeBusyboxRootfs(dir);
  spawnSync('ln', ['-s', 'busybox', path.join(rootfs, 'bin', 'sleep')]);
  spawnSync('tar', ['-C', rootfs, '-cf', path.join(dir, 'rootfs.tar'), '.']);
  const env = { ...process.env, BRIG_ROOT: path.join(dir, 'brig') };
  const brig = (args: string[]) => spawnSync(path.join(repoRoot, 'bin', 'brig'), args, { env, encoding: 'utf8' });
  assert.equal(brig(['import', path.join(dir, 'rootfs.tar'), 'localhost/brig-ctr:1']).status, 0);
  assert.equal(brig(['save', '--format', 'oci-archive', '-o', path.join(dir, 'img.tar'), 'localhost/brig-ctr:1']).status, 0);
  const r = ctr(['images', 'import', '--base-name', 'localhost/brig-ctr', path.join(dir, 'img.tar')]);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  daemon?.kill();
  if (daemon) await new Promise((r) => daemon!.once('exit', r));
  spawnSync('umount', ['-R', path.join(dir, 'state')]);
  rmSync(dir, { recursive: true, force: true });
});

test('ctr run --runc-binary brig-runtime: output and exit code', { skip }, () => {
  const r = ctr(['run', '--rm', '--runc-binary', RUNTIME, 'localhost/brig-ctr:1', 'c-echo', 'echo', 'ok']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'ok\n');
  assert.equal(ctr(['run', '--rm', '--runc-binary', RUNTIME, 'localhost/brig-ctr:1', 'c-exit', 'sh', '-c', 'exit 3']).code, 3);
});

test('ctr: a detached task, exec into it, kill, delete', { skip }, async () => {
  const d = ctr(['run', '-d', '--runc-binary', RUNTIME, 'localhost/brig-ctr:1', 'c-bg', 'sleep', '100']);
  assert.equal(d.code, 0, d.stderr);
  const e = ctr(['task', 'exec', '--exec-id', 'e1', 'c-bg', 'sh', '-c', 'echo inside; exit 4']);
  assert.equal(e.code, 4, e.stderr);
  assert.equal(e.stdout, 'inside\n');
  assert.match(ctr(['task', 'ls']).stdout, /c-bg\s+\d+\s+RUNNING/);
  assert.equal(ctr(['task', 'kill', '-s', 'SIGKILL', 'c-bg']).code, 0);
  for (let i = 0; i < 50 && !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(ctr(['task', 'rm', 'c-bg']).code, 0);
  assert.equal(ctr(['containers', 'rm', 'c-bg']).code, 0);
});

/** Runs one CNI plugin binary as a CNI runtime would (the spec's env-and-stdin protocol). */
function cni(command: 'ADD' | 'DEL', netns: string, conf: object) {
  return spawnSync('/usr/lib/cni/bridge', [], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    env: { CNI_COMMAND: command, CNI_CONTAINERID: 'brig-ctr-cni', CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
  });
}

const cniSkip = skip || (existsSync('/usr/lib/cni/bridge') ? false : 'CNI plugins not installed (apt-get install containernetworking-plugins)');

test('ctr run with a CNI-made network namespace joined by path (--with-ns)', { skip: cniSkip }, () => {
  // A namespace made and wired by the CNI bridge plugin, as Kubernetes' CRI plugin makes a
  // pod's; the container joins it by path and sees the interface. The addresses are a
  // documentation range (TEST-NET-1) on a bridge of this test's own, with no route out;
  // nothing is sent.
  const ns = `brig-cni-${process.pid}`;
  const netns = `/run/netns/${ns}`;
  const conf = {
    cniVersion: '0.4.0',
    name: 'brig-test',
    type: 'bridge',
    bridge: 'brig-cni-test0',
    isGateway: false,
    ipMasq: false,
    ipam: { type: 'host-local', ranges: [[{ subnet: '192.0.2.0/24' }]], dataDir: path.join(dir, 'cni-ipam') },
  };
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  try {
    const add = cni('ADD', netns, conf);
    assert.equal(add.status, 0, add.stdout + add.stderr);
    const ip = (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
    const r = ctr(['run', '--rm', '--runc-binary', RUNTIME, '--with-ns', `network:${netns}`, 'localhost/brig-ctr:1', 'c-cni', 'sh', '-c', 'cat /proc/net/fib_trie; cat /sys/class/net/eth0/operstate']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(ip), `${ip} not in the container's addresses:\n${r.stdout}`);
    assert.match(r.stdout, /^up$/m);
  } finally {
    cni('DEL', netns, conf);
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', 'brig-cni-test0']);
  }
});
