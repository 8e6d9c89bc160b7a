/**
 * The container engines bench/engine.ts, bench/monitor.ts and bench/density.ts compare, each
 * given the same one-layer busybox image (a docker-archive made here, loaded by each):
 *
 *  - brig: bin/brig on a BRIG_ROOT of its own, `--network none` as the peers (its default,
 *    as docker's, is the bridge network).
 *  - podman: the CLI on its own --root/--runroot, cgroupfs, file events, runc (Debian's crun
 *    1.8 refuses hybrid cgroups) and a cgroup parent of its own; `--network none`.
 *  - docker: Debian's dockerd started here on its own socket, data root, exec root (so its
 *    own containerd) and cgroup parent, with no bridge and no iptables rules; `--network none`.
 *
 * Everything an engine creates lives under one temp directory, plus the cgroup parents named
 * for this process; close() removes its containers, stops its daemon, unmounts what is left
 * under its directory and removes the lot. Nothing outside those is touched.
 *
 * The bridge variant (`network: 'bridge'`, the `run --rm` row on a bridge) gives each engine
 * its default bridge network instead, each a device and subnet of its own:
 *
 *  - brig: its default `bridge` network (netavark), made by the first run.
 *  - podman: its default network through netavark, defined in a network config dir of its
 *    own (bridge brbench-pod, 172.31.254.0/24, no DNS, as docker's default bridge).
 *  - docker: dockerd on a bridge the bench makes (brbench-dk, 172.31.252.1/24) with
 *    iptables on, as a docker install has it.
 *
 * Their bridges, veths and firewall rules are the host's: netavark removes a bridge and its
 * rules with the network's last container, dockerd removes nothing when it stops, netavark
 * leaves its shared chains. close() removes what is left by name (bench/host-net.ts) and
 * prints what differs from before the bench, among what the engines could have made.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTextSync } from '../src/util/read-text.js';
import { busyboxLayer, dockerArchive } from '../tests/support/image-archive.js';
import { cleanHostNet, hostNetDiff, snapshotHostNet } from './host-net.js';
import { has } from './runtime-run.js';
import { sleepMs } from './util.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
export const BRIG = path.join(repo, 'bin', 'brig');
export const IMAGE = 'localhost/brig-bench-bb:1';
const DOCKER_CLI = '/usr/bin/docker';
const DOCKERD = '/usr/sbin/dockerd';

/** `none`: every engine's containers with --network none; `bridge`: each on its default bridge network. */
export type BenchNetwork = 'none' | 'bridge';
const PODMAN_BRIDGE = { name: 'brbench-pod', subnet: '172.31.254.0/24', gateway: '172.31.254.1' };
const DOCKER_BRIDGE = { name: 'brbench-dk', subnet: '172.31.252.0/24', address: '172.31.252.1/24' };

export interface EngineUnderTest {
  name: 'brig' | 'podman' | 'docker';
  /** Its per-container monitor, as `ps` names it. */
  monitorName: string;
  /** Runs one engine command; wall time and stdout; throws with stderr on failure. */
  exec(args: string[]): { ms: number; stdout: string };
  /** Foreground `true`, removed when it exits. */
  runRm: string[];
  /** Foreground `true`, kept (removed afterwards by the caller). */
  runKept(name: string): string[];
  /** An idle container in the background; prints its id. */
  runDetached: string[];
  /**
   * Its Docker Engine API (started on first use; stopped by close()): DOCKER_HOST for the
   * docker CLI. brig: `brig serve`; podman: `podman system service`; docker: its socket.
   */
  apiHost(): string;
  /** The docker CLI's arguments for `run --rm IMAGE true` through that API, with this engine's run options. */
  apiRunRm: string[];
  /** Removes running containers in one command. */
  rmForce(ids: string[]): string[];
  /** Monitor pids of this engine's containers, from /proc. */
  monitors(): number[];
  /** Its daemons' pids (docker: dockerd and containerd), none for the daemonless. */
  daemons(): number[];
  /** Everything it keeps is under here. */
  dir: string;
  /** Mounts of its storage itself, which come and go with no container's leave. */
  storageMounts: string[];
  /** Tool versions, one line. */
  version: string;
  close(): void;
}

export interface Proc {
  pid: number;
  ppid: number;
  exe: string;
  cmdline: string;
}

/** Every process we can read, once. */
export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readTextSync(`/proc/${p}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const exe = readlinkSync(`/proc/${p}/exe`);
      out.push({ pid: Number(p), ppid, exe, cmdline: readTextSync(`/proc/${p}/cmdline`).replaceAll('\0', ' ') });
    } catch {}
  }
  return out;
}

function holdsFileUnder(pid: number, dir: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

function command(file: string, pre: string[], env: NodeJS.ProcessEnv) {
  return (args: string[]) => {
    const t0 = process.hrtime.bigint();
    // The timeout only guards against a hang: rm -f of 1,000 containers takes many minutes here.
    const r = spawnSync(file, [...pre, ...args], { env, encoding: 'utf8', timeout: 7_200_000, maxBuffer: 64 << 20 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) {
      throw new Error(`${path.basename(file)} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' ...' : ''}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().slice(-2000)}`);
    }
    return { ms, stdout: r.stdout };
  };
}

/** Mount points under `dir`, deepest first (octal escapes of mountinfo decoded). */
export function mountsUnder(dir: string): string[] {
  return readTextSync('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m): m is string => m !== undefined && m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir)) if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
}

/** Removes a cgroup directory tree named for this process, in every hierarchy. */
function removeCgroupTree(name: string): void {
  const rm = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(path.join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch {}
  };
  for (const h of readdirSync('/sys/fs/cgroup')) rm(path.join('/sys/fs/cgroup', h, name));
}

/** The image archive every engine loads. */
function imageArchive(work: string): string {
  const file = path.join(work, 'busybox.tar');
  writeFileSync(file, dockerArchive([{ layers: [busyboxLayer()], tags: [IMAGE] }]));
  return file;
}

function brigEngine(work: string, archive: string, network: BenchNetwork): EngineUnderTest {
  const root = path.join(work, 'brig');
  const exec = command(BRIG, [], { ...process.env, BRIG_ROOT: root });
  exec(['load', '-q', '-i', archive]);
  const commit = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const run = network === 'none' ? ['run', '--network', 'none'] : ['run'];
  const api = apiServer(path.join(work, 'brig-api.sock'), (sock) => spawn(BRIG, ['serve', '-H', `unix://${sock}`], { env: { ...process.env, BRIG_ROOT: root }, stdio: 'ignore' }));
  return {
    name: 'brig',
    monitorName: 'brig-monitor',
    exec,
    apiHost: api.host,
    apiRunRm: [...run, '--rm', IMAGE, 'true'],
    runRm: [...run, '--rm', IMAGE, 'true'],
    runKept: (name) => [...run, '--name', name, IMAGE, 'true'],
    runDetached: [...run, '-d', IMAGE, 'sleep', '100000'],
    rmForce: (ids) => ['rm', '-f', ...ids],
    monitors: () =>
      processes()
        .filter((p) => p.exe.endsWith('/brig-monitor') && holdsFileUnder(p.pid, `${root}/`))
        .map((p) => p.pid),
    daemons: () => [],
    dir: root,
    storageMounts: [],
    version: `brig ${commit || '(no git)'}, node ${spawnSync(path.join(repo, 'node_modules/node/bin/node'), ['--version'], { encoding: 'utf8' }).stdout.trim()}`,
    close() {
      api.stop();
      const ids = exec(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) exec(['rm', '-f', ...ids]);
      unmountUnder(root);
    },
  };
}

function podmanEngine(work: string, archive: string, network: BenchNetwork): EngineUnderTest {
  const dir = path.join(work, 'podman');
  mkdirSync(dir);
  const conf = path.join(dir, 'containers.conf');
  // This machine cannot raise hard rlimits; podman's defaults would exceed them.
  let confText = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n';
  if (network === 'bridge') {
    // Its default network from a config dir of its own: a file named for it replaces the
    // built-in podman0 on 10.88.0.0/16 (brig's default subnet).
    const netDir = path.join(dir, 'networks');
    mkdirSync(netDir);
    writeFileSync(
      path.join(netDir, 'podman.json'),
      JSON.stringify({
        name: 'podman',
        id: '2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9',
        driver: 'bridge',
        network_interface: PODMAN_BRIDGE.name,
        created: '2026-01-01T00:00:00Z',
        subnets: [{ subnet: PODMAN_BRIDGE.subnet, gateway: PODMAN_BRIDGE.gateway }],
        ipv6_enabled: false,
        internal: false,
        dns_enabled: false,
        ipam_options: { driver: 'host-local' },
      }),
    );
    confText += `[network]\nnetwork_backend = "netavark"\nnetwork_config_dir = "${netDir}"\ndefault_network = "podman"\n`;
  }
  writeFileSync(conf, confText);
  const cgroupParent = `brig-bench-podman-${process.pid}`;
  const base = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc'];
  const exec = command('podman', base, { ...process.env, CONTAINERS_CONF: conf });
  exec(['load', '-q', '-i', archive]);
  const run = [...(network === 'none' ? ['run', '--network', 'none'] : ['run']), '--cgroup-parent', `/${cgroupParent}`];
  const api = apiServer(path.join(dir, 'api.sock'), (sock) => spawn('podman', [...base, 'system', 'service', '--time=0', `unix://${sock}`], { env: { ...process.env, CONTAINERS_CONF: conf }, stdio: 'ignore' }));
  return {
    name: 'podman',
    monitorName: 'conmon',
    exec,
    apiHost: api.host,
    apiRunRm: [...run, '--rm', IMAGE, 'true'],
    runRm: [...run, '--rm', IMAGE, 'true'],
    runKept: (name) => [...run, '--name', name, IMAGE, 'true'],
    runDetached: [...run, '-d', IMAGE, 'sleep', '100000'],
    // podman rm -f stops with the stop timeout first; sleep as pid 1 ignores SIGTERM.
    rmForce: (ids) => ['rm', '-f', '-t', '0', ...ids],
    monitors: () =>
      processes()
        .filter((p) => p.exe.endsWith('/conmon') && p.cmdline.includes(dir))
        .map((p) => p.pid),
    daemons: () => [],
    dir,
    storageMounts: [path.join(dir, 'root', 'overlay')],
    version: `${exec(['--version']).stdout.trim()}, ${spawnSync('runc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}, conmon ${spawnSync('conmon', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.replace(/^conmon version /, '')}`,
    close() {
      api.stop();
      exec(['rm', '-af', '-t', '0']);
      exec(['rmi', '-af']);
      unmountUnder(dir);
      removeCgroupTree(cgroupParent);
    },
  };
}

function dockerEngine(work: string, archive: string, network: BenchNetwork): EngineUnderTest | string {
  const dir = path.join(work, 'docker');
  mkdirSync(path.join(dir, 'cli'), { recursive: true });
  const sock = path.join(dir, 'docker.sock');
  const execRoot = path.join(dir, 'exec');
  const cgroupParent = `brig-bench-docker-${process.pid}`;
  if (network === 'bridge') {
    // dockerd takes a bridge given by name as it finds it: made here, removed by close().
    for (const args of [['link', 'add', DOCKER_BRIDGE.name, 'type', 'bridge'], ['addr', 'add', DOCKER_BRIDGE.address, 'dev', DOCKER_BRIDGE.name], ['link', 'set', DOCKER_BRIDGE.name, 'up']]) {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.status !== 0) return `ip ${args.join(' ')}: ${r.stderr.trim()}`;
    }
  }
  writeFileSync(
    path.join(dir, 'daemon.json'),
    JSON.stringify({
      hosts: [`unix://${sock}`],
      'data-root': path.join(dir, 'data'),
      'exec-root': execRoot,
      pidfile: path.join(dir, 'docker.pid'),
      // Else dockerd 20.10 writes its identity key to /etc/docker/key.json.
      'deprecated-key-path': path.join(dir, 'key.json'),
      ...(network === 'none'
        ? // Only --network none containers here: no docker0, nothing in the host's firewall.
          { bridge: 'none', iptables: false, ip6tables: false, 'ip-forward': false, 'ip-masq': false }
        : // Its own bridge; iptables, forwarding and masquerading on, as a docker install has them.
          { bridge: DOCKER_BRIDGE.name }),
      'cgroup-parent': `/${cgroupParent}`,
      'default-ulimits': { nofile: { Name: 'nofile', Hard: 20000, Soft: 20000 }, nproc: { Name: 'nproc', Hard: 32768, Soft: 32768 } },
      'storage-driver': 'overlay2',
    }),
  );
  const log = openSync(path.join(dir, 'dockerd.log'), 'w');
  const daemon: ChildProcess = spawn(DOCKERD, ['--config-file', path.join(dir, 'daemon.json')], { stdio: ['ignore', log, log] });
  closeSync(log);
  // The bench waits synchronously, so the child's exit shows in /proc, not in exitCode.
  const pid = daemon.pid!;
  const exec = command(DOCKER_CLI, ['-H', `unix://${sock}`], { ...process.env, DOCKER_CONFIG: path.join(dir, 'cli') });
  const stopDaemon = () => {
    if (alive(pid)) daemon.kill('SIGTERM');
    // dockerd stops its containerd and waits for it; give both time, then make sure.
    for (let i = 0; i < 200 && alive(pid); i++) sleepMs(100);
    for (const p of processes()) if (p.cmdline.includes(dir) && p.pid !== process.pid && alive(p.pid)) process.kill(p.pid, 'SIGKILL');
  };
  let ready = false;
  for (let i = 0; i < 120 && alive(pid); i++) {
    if (existsSync(sock) && spawnSync(DOCKER_CLI, ['-H', `unix://${sock}`, 'version'], { stdio: 'ignore' }).status === 0) {
      ready = true;
      break;
    }
    sleepMs(250);
  }
  if (!ready) {
    stopDaemon();
    const tail = readTextSync(path.join(dir, 'dockerd.log')).trim().split('\n').slice(-3).join(' | ');
    unmountUnder(dir);
    removeCgroupTree(cgroupParent);
    return `dockerd did not start: ${tail}`;
  }
  try {
    exec(['load', '-q', '-i', archive]);
  } catch (e) {
    stopDaemon();
    unmountUnder(dir);
    throw e;
  }
  const run = network === 'none' ? ['run', '--network', 'none'] : ['run'];
  return {
    name: 'docker',
    monitorName: 'containerd-shim-runc-v2',
    exec,
    apiHost: () => `unix://${sock}`,
    apiRunRm: [...run, '--rm', IMAGE, 'true'],
    runRm: [...run, '--rm', IMAGE, 'true'],
    runKept: (name) => [...run, '--name', name, IMAGE, 'true'],
    runDetached: [...run, '-d', IMAGE, 'sleep', '100000'],
    rmForce: (ids) => ['rm', '-f', ...ids],
    monitors: () =>
      processes()
        .filter((p) => p.exe.endsWith('/containerd-shim-runc-v2') && p.cmdline.includes(execRoot))
        .map((p) => p.pid),
    daemons: () => [pid, ...processes().filter((p) => p.ppid === pid && p.exe.endsWith('/containerd')).map((p) => p.pid)],
    dir,
    storageMounts: [path.join(dir, 'data'), path.join(dir, 'data', 'overlay2')],
    version: `docker ${exec(['version', '-f', '{{.Server.Version}}']).stdout.trim()} (containerd ${exec(['version', '-f', '{{range .Server.Components}}{{if eq .Name "containerd"}}{{.Version}}{{end}}{{end}}']).stdout.trim()}), runc`,
    close() {
      try {
        const ids = exec(['ps', '-aq']).stdout.split('\n').filter(Boolean);
        if (ids.length) exec(['rm', '-f', ...ids]);
      } finally {
        stopDaemon();
        unmountUnder(dir);
        removeCgroupTree(cgroupParent);
      }
    },
  };
}

/**
 * An API service started on first use at `sock` and stopped with SIGTERM (then SIGKILL) by
 * stop(); nothing if never used.
 */
function apiServer(sock: string, start: (sock: string) => ChildProcess): { host(): string; stop(): void } {
  let child: ChildProcess | undefined;
  return {
    host() {
      if (!child) {
        child = start(sock);
        for (let i = 0; i < 200 && !existsSync(sock); i++) sleepMs(50);
        if (!existsSync(sock)) throw new Error(`the API service did not listen on ${sock}`);
      }
      return `unix://${sock}`;
    },
    stop() {
      const pid = child?.pid;
      if (pid === undefined) return;
      child!.kill('SIGTERM');
      for (let i = 0; i < 100 && alive(pid); i++) sleepMs(50);
      if (alive(pid)) child!.kill('SIGKILL');
    },
  };
}

/** Exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const s = readTextSync(`/proc/${pid}/stat`);
    return !s.slice(s.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export interface EngineSet {
  engines: EngineUnderTest[];
  /** Why a peer is not in `engines`, by name. */
  skipped: Map<string, string>;
  close(): void;
}

/** brig's default network in a data root: its bridge device and subnet. */
function brigDefaultNetwork(root: string): { bridge: string; subnet: string } | undefined {
  const dir = path.join(root, 'networks');
  if (!existsSync(dir)) return undefined;
  for (const f of readdirSync(dir).filter((x) => /^[0-9a-f]{64}\.json$/.test(x))) {
    const r = JSON.parse(readTextSync(path.join(dir, f))) as { Name: string; brig: { bridge: string }; IPAM: { Config: { Subnet: string }[] } };
    if (r.Name === 'bridge') return { bridge: r.brig.bridge, subnet: r.IPAM.Config[0]!.Subnet };
  }
  return undefined;
}

/**
 * brig plus the peers that are installed and not skipped (`skip`: names; `want`: only
 * these), set up with the image and one container run already; `close()` undoes all of it.
 */
export function openEngines(opts: { skip?: string[]; want?: string[]; network?: BenchNetwork } = {}): EngineSet {
  const network = opts.network ?? 'none';
  const work = mkdtempSync(path.join(tmpdir(), 'brig-bench-engines-'));
  const archive = imageArchive(work);
  const engines: EngineUnderTest[] = [];
  const skipped = new Map<string, string>();
  const hostBefore = network === 'bridge' ? snapshotHostNet() : undefined;
  const close = () => {
    // brig's bridge and subnet, from its record (made by its first run).
    const brigNet = network === 'bridge' ? brigDefaultNetwork(path.join(work, 'brig')) : undefined;
    for (const e of engines.reverse()) {
      try {
        e.close();
      } catch (err) {
        console.log(`  (${e.name} clean-up: ${(err as Error).message})`);
      }
    }
    unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
    if (hostBefore) {
      // The peers' leftovers go by their names; brig's are only looked for: removing them is
      // brig's own job, and another brig data root on this machine may have picked the same
      // first free device and subnet for its default network.
      const peers = [PODMAN_BRIDGE.name, DOCKER_BRIDGE.name, PODMAN_BRIDGE.subnet, DOCKER_BRIDGE.subnet];
      const bridges = [PODMAN_BRIDGE.name, DOCKER_BRIDGE.name, ...(brigNet ? [brigNet.bridge] : [])];
      const tokens = [...peers, ...(brigNet ? [brigNet.bridge, brigNet.subnet] : [])];
      const left = hostNetDiff(hostBefore, tokens, bridges);
      const refused = cleanHostNet(hostBefore, peers, [PODMAN_BRIDGE.name, DOCKER_BRIDGE.name]);
      for (const r of refused) console.log(`  netavark's shared chains kept: ${r}`);
      const after = hostNetDiff(hostBefore, tokens, bridges);
      if (brigNet) console.log(`  brig's default network was ${brigNet.bridge}, ${brigNet.subnet}`);
      console.log(`  host network after the engines stopped: ${left.length ? `${left.length} left (${left.slice(0, 12).join('; ')}${left.length > 12 ? '; ...' : ''}), removed by the bench` : 'nothing left'}`);
      console.log(`  host network after the bench's clean-up: ${after.length ? `NOT as before: ${after.join('; ')}` : 'as before (links, iptables-save, nft list ruleset)'}`);
    }
  };
  const makers: [EngineUnderTest['name'], () => EngineUnderTest | string][] = [
    ['brig', () => brigEngine(work, archive, network)],
    ['podman', () => (has('podman') && has('runc') && has('conmon') ? podmanEngine(work, archive, network) : 'podman, runc or conmon not installed (bench/README.md: reference-engines.sh install)')],
    ['docker', () => (existsSync(DOCKERD) && existsSync(DOCKER_CLI) ? dockerEngine(work, archive, network) : `${DOCKERD} or ${DOCKER_CLI} not installed (docker.io)`)],
  ];
  try {
    for (const [name, make] of makers) {
      if (opts.want && !opts.want.includes(name)) continue;
      if (opts.skip?.includes(name)) {
        skipped.set(name, 'skipped by BENCH_ENGINE_SKIP');
        continue;
      }
      const e = make();
      if (typeof e === 'string') skipped.set(name, e);
      else {
        engines.push(e);
        // A first container makes what an engine makes once (podman mounts its storage).
        e.exec(e.runRm);
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { engines, skipped, close };
}
