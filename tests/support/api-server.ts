/**
 * `brig serve` started by a test: its own data root (BRIG_ROOT in a temp dir) and a unix
 * socket there, busybox loaded as `busybox:latest` through the brig CLI (the images
 * endpoints are not this server's yet), and the docker CLI pointed at it with DOCKER_HOST.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BRIG, brigCli } from './brig-cli.js';
import { busyboxLayer, dockerArchive } from './image-archive.js';

export interface ApiServer {
  root: string;
  data: string;
  socket: string;
  proc: ChildProcess;
  /** What the server wrote on stderr so far. */
  log(): string;
  env: NodeJS.ProcessEnv;
  /** The docker CLI against this server. */
  docker(args: string[], opts?: { input?: string; timeout?: number }): { code: number | null; stdout: string; stderr: string };
  dockerOk(args: string[], opts?: { input?: string; timeout?: number }): string;
  brig: ReturnType<typeof brigCli>;
  /** Open fds of the server process. */
  fds(): number;
  stop(): Promise<number | null>;
  /** Starts the server again on the same data root and socket (after stop). */
  restart(): Promise<void>;
}

async function launch(data: string, socket: string, extraArgs: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ proc: ChildProcess; log: () => string }> {
  const proc = spawn(BRIG, ['serve', '-H', `unix://${socket}`, ...extraArgs], { env: { ...process.env, BRIG_ROOT: data, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`brig serve did not start: ${stderr}`)), 30_000);
    proc.stderr!.on('data', () => {
      if (!stderr.includes('API listening')) return;
      clearTimeout(t);
      resolve();
    });
    proc.once('exit', (code) => (clearTimeout(t), reject(new Error(`brig serve exited ${code}: ${stderr}`))));
  });
  return { proc, log: () => stderr };
}

/** `extraEnv`: the server's own (NODE_OPTIONS for a soak), not the docker CLI's. */
export async function startApiServer(prefix: string, extraArgs: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<ApiServer> {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const data = path.join(root, 'data');
  const socket = path.join(root, 'docker.sock');
  const brig = brigCli(data);
  const archive = path.join(root, 'busybox.tar');
  writeFileSync(archive, dockerArchive([{ layers: [busyboxLayer()], tags: ['busybox:latest'] }]));
  brig.ok(['load', '-i', archive]);
  let server = await launch(data, socket, extraArgs, extraEnv);
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(root, 'docker-config') };
  const docker: ApiServer['docker'] = (args, opts = {}) => {
    const r = spawnSync('docker', args, { env, encoding: 'utf8', input: opts.input ?? '', timeout: opts.timeout ?? 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const api: ApiServer = {
    root,
    data,
    socket,
    proc: server.proc,
    env,
    log: () => server.log(),
    docker,
    dockerOk: (args, opts) => {
      const r = docker(args, opts);
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    brig,
    fds: () => readdirSync(`/proc/${api.proc.pid}/fd`).length,
    async stop() {
      const proc = api.proc;
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      return exited;
    },
    async restart() {
      server = await launch(data, socket, extraArgs, extraEnv);
      api.proc = server.proc;
    },
  };
  return api;
}

/** Removes every container of the server's data root (through the brig CLI), stops the server, removes its directory. */
export async function stopApiServer(s: ApiServer | undefined): Promise<void> {
  if (!s) return;
  for (const id of s.brig.brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) s.brig.brig(['rm', '-f', id]);
  await s.stop();
  rmSync(s.root, { recursive: true, force: true });
}

export interface ApiReply {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One request on its own connection to a unix socket, with a JSON body if given; the reply
 * whole, or as soon as `until` holds for what came (the connection is then dropped).
 */
export function apiRequest(socket: string, method: string, p: string, body?: unknown, opts: { until?: (b: Buffer) => boolean } = {}): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath: socket, method, path: p, agent: false, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        const done = () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers });
        res.on('data', (d: Buffer) => {
          chunks.push(d);
          if (opts.until?.(Buffer.concat(chunks))) {
            done();
            req.destroy();
          }
        });
        res.on('end', done);
      },
    );
    req.on('error', (e) => (opts.until ? undefined : reject(e)));
    req.end(data);
  });
}
