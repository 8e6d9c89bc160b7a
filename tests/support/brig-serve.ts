/**
 * `brig serve` started by a test on a temp unix socket and a temp BRIG_ROOT (the same root
 * the test's brig CLI uses, so both see one store), driven by the unmodified docker CLI
 * (DOCKER_HOST=unix://SOCK) and by raw HTTP on the socket. stop() sends SIGTERM and waits.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BRIG } from './brig-cli.js';

export const DOCKER = '/usr/local/bin/docker';

export function dockerMissing(): string | false {
  return existsSync(DOCKER) ? false : `the docker CLI is not at ${DOCKER}`;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: () => unknown;
}

export interface Served {
  sock: string;
  /** The docker CLI against the server; env adds to (or overrides) the test's. */
  docker(args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv }): { code: number | null; stdout: string; stderr: string };
  /** As docker(), insisting on exit 0; stdout. */
  dockerOk(args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv }): string;
  /** One HTTP request on the socket. */
  http(method: string, urlPath: string, opts?: { body?: unknown; headers?: Record<string, string> }): Promise<RawResponse>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * The server gets a docker config dir of its own (empty): the registry credentials it uses
 * are then only what a request's X-Registry-Auth gives.
 */
export async function startServe(data: string, dir: string): Promise<Served> {
  const sock = path.join(dir, 'docker.sock');
  let log = '';
  const child: ChildProcess = spawn(BRIG, ['serve', '-H', `unix://${sock}`], { env: { ...process.env, BRIG_ROOT: data, DOCKER_CONFIG: path.join(dir, 'server-docker-config') }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  for (let i = 0; i < 200 && !log.includes('API listening'); i++) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  if (!log.includes('API listening')) {
    child.kill('SIGKILL');
    throw new Error(`brig serve did not start: ${log}`);
  }
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(dir, 'docker-config'), DOCKER_CLI_HINTS: 'false' };
  const docker: Served['docker'] = (args, opts = {}) => {
    const r = spawnSync(DOCKER, args, { env: { ...env, ...opts.env }, input: opts.input ?? '', encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const http: Served['http'] = (method, urlPath, opts = {}) =>
    new Promise((resolve, reject) => {
      const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      const headers: Record<string, string> = { ...(body && !Buffer.isBuffer(opts.body) ? { 'Content-Type': 'application/json' } : {}), ...(body ? { 'Content-Length': String(body.length) } : {}), ...opts.headers };
      // A connection each (agent: false): a kept-alive one may be closed by the server's idle timeout under us.
      const req = request({ socketPath: sock, method, path: urlPath, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8'), json: () => JSON.parse(b.toString('utf8')) });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    sock,
    docker,
    dockerOk(args, opts) {
      const r = docker(args, opts);
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    http,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
