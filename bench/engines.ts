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
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTextSync } from '../src/util/read-text.js';
import { busyboxLayer, dockerArchive } from '../tests/support/image-archive.js';
import { has } from './runtime-run.js';
import { sleepMs } from './util.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
export const BRIG = path.join(repo, 'bin', 'brig');
export const IMAGE = 'localhost/brig-bench-bb:1';
const DOCKER_CLI = '/usr/bin/docker';
const DOCKERD = '/usr/sbin/dockerd';

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

function brigEngine(work: string, archive: string): EngineUnderTest {
  const root = path.join(work, 'brig');
  const exec = command(BRIG, [], { ...process.env, BRIG_ROOT: root });
  exec(['load', '-q', '-i', archive]);
  const commit = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  return {
    name: 'brig',
    monitorName: 'brig-monitor',
    exec,
    runRm: ['run', '--network', 'none', '--rm', IMAGE, 'true'],
    runKept: (name) => ['run', '--network', 'none', '--name', name, IMAGE, 'true'],
    runDetached: ['run', '--network', 'none', '-d', IMAGE, 'sleep', '100000'],
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
      const ids = exec(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) exec(['rm', '-f', ...ids]);
      unmountUnder(root);
    },
  };
}

function podmanEngine(work: string, archive: string): EngineUnderTest {
  const dir = path.join(work, 'podman');
  mkdirSync(dir);
  const conf = path.join(dir, 'containers.conf');
  // This machine cannot raise hard rlimits; podman's defaults would exceed them.
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n');
  const cgroupParent = `brig-bench-podman-${process.pid}`;
  const base = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc'];
  const exec = command('podman', base, { ...process.env, CONTAINERS_CONF: conf });
  exec(['load', '-q', '-i', archive]);
  const run = ['run', '--network', 'none', '--cgroup-parent', `/${cgroupParent}`];
  return {
    name: 'podman',
    monitorName: 'conmon',
    exec,
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
      exec(['rm', '-af', '-t', '0']);
      exec(['rmi', '-af']);
      unmountUnder(dir);
      removeCgroupTree(cgroupParent);
    },
  };
}

function dockerEngine(work: string, archive: string): EngineUnderTest | string {
  const dir = path.join(work, 'docker');
  mkdirSync(path.join(dir, 'cli'), { recursive: true });
  const sock = path.join(dir, 'docker.sock');
  const execRoot = path.join(dir, 'exec');
  const cgroupParent = `brig-bench-docker-${process.pid}`;
  writeFileSync(
    path.join(dir, 'daemon.json'),
    JSON.stringify({
      hosts: [`unix://${sock}`],
      'data-root': path.join(dir, 'data'),
      'exec-root': execRoot,
      pidfile: path.join(dir, 'docker.pid'),
      // Else dockerd 20.10 writes its identity key to /etc/docker/key.json.
      'deprecated-key-path': path.join(dir, 'key.json'),
      // Only --network none containers here: no docker0, nothing in the host's firewall.
      bridge: 'none',
      iptables: false,
      ip6tables: false,
      'ip-forward': false,
      'ip-masq': false,
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
  const run = ['run', '--network', 'none'];
  return {
    name: 'docker',
    monitorName: 'containerd-shim-runc-v2',
    exec,
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

/**
 * brig plus the peers that are installed and not skipped (`skip`: names; `want`: only
 * these), set up with the image and one container run already; `close()` undoes all of it.
 */
export function openEngines(opts: { skip?: string[]; want?: string[] } = {}): EngineSet {
  const work = mkdtempSync(path.join(tmpdir(), 'brig-bench-engines-'));
  const archive = imageArchive(work);
  const engines: EngineUnderTest[] = [];
  const skipped = new Map<string, string>();
  const close = () => {
    for (const e of engines.reverse()) {
      try {
        e.close();
      } catch (err) {
        console.log(`  (${e.name} clean-up: ${(err as Error).message})`);
      }
    }
    unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  };
  const makers: [EngineUnderTest['name'], () => EngineUnderTest | string][] = [
    ['brig', () => brigEngine(work, archive)],
    ['podman', () => (has('podman') && has('runc') && has('conmon') ? podmanEngine(work, archive) : 'podman, runc or conmon not installed (bench/README.md: reference-engines.sh install)')],
    ['docker', () => (existsSync(DOCKERD) && existsSync(DOCKER_CLI) ? dockerEngine(work, archive) : `${DOCKERD} or ${DOCKER_CLI} not installed (docker.io)`)],
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
