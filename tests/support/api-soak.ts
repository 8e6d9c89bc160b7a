/**
 * The soak of `brig serve` (issue 14: "the server's memory stays flat over 10,000
 * create/start/remove cycles"), shared by the hand-run bench (bench/api-soak.ts) and the CI
 * test (tests/e2e/api-soak.test.ts): one cycle as a client does it over the socket, a sample
 * of the server's memory, and a verdict on the samples after warm-up.
 *
 * A cycle is docker run --rm's requests, less the attach: create busybox `true`, wait
 * (condition=next-exit, sent before the start as the docker CLI does), start, the wait's
 * answer, delete. The connections are kept alive between requests, as the docker CLI's are.
 *
 * A sample reads the server's /proc/<pid>/status (VmRSS, the resident set: what the issue
 * means by memory) and fd count, and, when the server runs with --debug-memory and
 * NODE_OPTIONS=--expose-gc, GET /_brig/memory: the V8 heap after a full collection, which
 * moves only with objects kept alive, so a leak shows in it long before RSS (whose pages
 * malloc and V8 keep for reuse) does.
 */
import { readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { readTextSync } from '../../src/util/read-text.js';

export interface SoakClient {
  socket: string;
  agent: Agent;
}

export function soakClient(socket: string): SoakClient {
  return { socket, agent: new Agent({ keepAlive: true, maxSockets: 4 }) };
}

/** One request; the body as text. Anything but 2xx is an error naming the request. */
export function call(c: SoakClient, method: string, path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath: c.socket, agent: c.agent, method, path, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode! >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(text);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** create, wait (next-exit), start, delete of busybox `true`; its exit code must be 0. */
export async function soakCycle(c: SoakClient, opts: { network?: string; image?: string } = {}): Promise<void> {
  const created = JSON.parse(await call(c, 'POST', '/v1.45/containers/create', { Image: opts.image ?? 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: opts.network ?? 'none' } })) as { Id: string };
  const id = created.Id;
  try {
    const wait = call(c, 'POST', `/v1.45/containers/${id}/wait?condition=next-exit`);
    wait.catch(() => {}); // a failed start is the error to report; the wait's is looked at below
    await call(c, 'POST', `/v1.45/containers/${id}/start`);
    const code = (JSON.parse(await wait) as { StatusCode: number }).StatusCode;
    if (code !== 0) throw new Error(`container ${id} exited ${code}`);
  } finally {
    await call(c, 'DELETE', `/v1.45/containers/${id}?force=1`);
  }
}

export interface SoakSample {
  cycle: number;
  /** Seconds since the soak began. */
  secs: number;
  rssKiB: number;
  /** RSS's parts: anonymous memory (the heap, malloc's arenas) and file pages (the node binary's code as it is touched). */
  rssAnonKiB: number;
  rssFileKiB: number;
  fds: number;
  threads: number;
  /** From GET /_brig/memory, when the server answers it. */
  heapUsed?: number;
  heapTotal?: number;
  external?: number;
  arrayBuffers?: number;
  collected?: boolean;
  activeResources?: number;
  server?: Record<string, number>;
}

function statusField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function sampleServer(c: SoakClient, pid: number, cycle: number, t0: number): Promise<SoakSample> {
  let debug: Partial<SoakSample> = {};
  try {
    debug = JSON.parse(await call(c, 'GET', '/_brig/memory')) as Partial<SoakSample>;
  } catch {} // a server without --debug-memory: 404, /proc only
  // /proc after the collection the probe made, so RSS is read at its lowest too.
  const status = readTextSync(`/proc/${pid}/status`);
  return {
    cycle,
    secs: (Date.now() - t0) / 1000,
    rssKiB: statusField(status, 'VmRSS'),
    rssAnonKiB: statusField(status, 'RssAnon'),
    rssFileKiB: statusField(status, 'RssFile'),
    threads: statusField(status, 'Threads'),
    fds: readdirSync(`/proc/${pid}/fd`).length,
    ...(debug.heapUsed !== undefined
      ? { heapUsed: debug.heapUsed, heapTotal: debug.heapTotal!, external: debug.external!, arrayBuffers: debug.arrayBuffers!, collected: debug.collected!, activeResources: debug.activeResources!, server: debug.server! }
      : {}),
  };
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface SoakBounds {
  /** RSS may end at most this much above its lowest sample after warm-up (KiB). */
  rssGrowthKiB: number;
  /** The collected heap's trend after warm-up, bytes per cycle. */
  heapBytesPerCycle: number;
  /** fds may end at most this many above the first sample after warm-up. */
  fds: number;
}

/**
 * The bounds, and why: a leak of one small object per cycle (a Map entry with a container id,
 * a listener with its closure: 200 bytes and more) shows as ≥ 200 B/cycle in the collected
 * heap's trend; the heap's own noise between collections is a few KiB over a run, far under
 * 50 B/cycle over hundreds of cycles. RSS is coarser: malloc and V8 keep freed pages, and
 * a quiet server's RSS moves by a few MiB as V8 grows and shrinks its young generation, so
 * 16 MiB over the lowest sample after warm-up is the bound; 10,000 cycles leaking 2 KiB each
 * would pass 16 MiB. fds: none may stay per cycle (+2 for the keep-alive connections).
 */
export const SOAK_BOUNDS: SoakBounds = { rssGrowthKiB: 16 * 1024, heapBytesPerCycle: 50, fds: 2 };

export interface SoakVerdict {
  flat: boolean;
  lines: string[];
}

export function soakVerdict(samples: SoakSample[], warmup: number, bounds: SoakBounds = SOAK_BOUNDS): SoakVerdict {
  const after = samples.filter((s) => s.cycle >= warmup);
  if (after.length < 3) return { flat: false, lines: [`too few samples after the warm-up of ${warmup} cycles (${after.length}) for a verdict`] };
  const first = after[0]!;
  const last = after.at(-1)!;
  const minRss = Math.min(...after.map((s) => s.rssKiB));
  const rssGrowth = last.rssKiB - minRss;
  const rssSlope = slope(
    after.map((s) => s.cycle),
    after.map((s) => s.rssKiB),
  );
  const lines: string[] = [];
  let flat = true;
  const rssOk = rssGrowth <= bounds.rssGrowthKiB;
  flat &&= rssOk;
  lines.push(
    `RSS after warm-up (cycle ${first.cycle}..${last.cycle}): ${first.rssKiB} → ${last.rssKiB} KiB, lowest ${minRss}, end − lowest ${rssGrowth} KiB (bound ${bounds.rssGrowthKiB}): ${rssOk ? 'ok' : 'GROWS'}; trend ${(rssSlope * 1000).toFixed(0)} KiB per 1000 cycles`,
  );
  const heap = after.filter((s) => s.heapUsed !== undefined && s.collected);
  if (heap.length >= 3) {
    const hs = slope(
      heap.map((s) => s.cycle),
      heap.map((s) => s.heapUsed!),
    );
    const heapOk = hs <= bounds.heapBytesPerCycle;
    flat &&= heapOk;
    lines.push(
      `heap after a full collection: ${heap[0]!.heapUsed} → ${heap.at(-1)!.heapUsed} bytes; trend ${hs.toFixed(1)} B/cycle (bound ${bounds.heapBytesPerCycle}): ${heapOk ? 'ok' : 'GROWS'}`,
    );
  } else lines.push('heap: not sampled (start the server with --debug-memory and NODE_OPTIONS=--expose-gc)');
  const fdOk = last.fds - first.fds <= bounds.fds;
  flat &&= fdOk;
  lines.push(`fds: ${first.fds} → ${last.fds} (bound +${bounds.fds}): ${fdOk ? 'ok' : 'LEAK'}`);
  lines.push(`verdict: ${flat ? 'flat' : 'GROWS'} after a warm-up of ${warmup} cycles`);
  return { flat, lines };
}

export function formatSample(s: SoakSample): string {
  const mib = (b: number | undefined) => (b === undefined ? '-' : (b / 1048576).toFixed(2));
  const srv = s.server ? Object.entries(s.server).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  return `${String(s.cycle).padStart(6)} ${s.secs.toFixed(0).padStart(6)}s  rss ${(s.rssKiB / 1024).toFixed(1).padStart(7)} MiB (anon ${(s.rssAnonKiB / 1024).toFixed(1)}, file ${(s.rssFileKiB / 1024).toFixed(1)})  heap ${mib(s.heapUsed).padStart(6)}/${mib(s.heapTotal).padStart(6)} MiB  ext ${mib(s.external).padStart(5)} MiB  fds ${String(s.fds).padStart(3)}  thr ${s.threads}  res ${s.activeResources ?? '-'}  ${srv}`;
}
