/**
 * brig serve: the Docker Engine API over the same engine and store as this CLI, so the docker
 * CLI, docker-compose and dockerode drive brig unchanged. The server lives in src/api, loaded
 * only here: every other verb starts without it.
 */
import { BrigError } from '../../../../errors/index.js';
import { noArgs, type Verb } from '../../verb.js';

/**
 * The process's memory for GET /_brig/memory: after a full collection when node runs with
 * --expose-gc, the "last resort" one a heap snapshot makes (it also drops compiled code and
 * type feedback not used lately), so what stays is what is held.
 */
function debugMemory(): Record<string, unknown> {
  const gc = (globalThis as { gc?: (o?: { type: string; execution: string; flavor: string }) => void }).gc;
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { collected: gc !== undefined, ...process.memoryUsage(), activeResources: process.getActiveResourcesInfo().length };
}

export const DEFAULT_HOST = 'unix:///run/brig/docker.sock';

export const serve: Verb = {
  spec: {
    name: 'serve',
    usage: 'serve [OPTIONS]',
    summary: 'Serve the Docker Engine API',
    flags: [
      { name: 'host', short: 'H', type: 'list', help: `Daemon socket(s) to listen on: unix:///path or tcp://ADDR:PORT (default ${DEFAULT_HOST})` },
      { name: 'tlsverify', type: 'bool', help: 'Use TLS and verify clients against --tlscacert (required for TCP)' },
      { name: 'tlscacert', type: 'string', help: 'Trust client certificates signed by this CA' },
      { name: 'tlscert', type: 'string', help: 'Path to the TLS certificate file' },
      { name: 'tlskey', type: 'string', help: 'Path to the TLS key file' },
      { name: 'insecure-tcp', type: 'bool', help: 'Allow plain TCP on a loopback address (anyone on this host can then control brig)' },
      { name: 'debug-memory', type: 'bool', help: "Answer GET /_brig/memory with the server's memory (soak tests; with NODE_OPTIONS=--expose-gc, after a collection)" },
    ],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const v = p.values;
    const hosts = (v.host as string[] | undefined) ?? [DEFAULT_HOST];
    let tls: { ca: string; cert: string; key: string } | undefined;
    if (v.tlsverify === true) {
      for (const f of ['tlscacert', 'tlscert', 'tlskey']) {
        if (typeof v[f] !== 'string' || v[f] === '') throw new BrigError('INVALID_ARGUMENT', `--tlsverify needs --${f}`, { field: `--${f}` });
      }
      tls = { ca: v.tlscacert as string, cert: v.tlscert as string, key: v.tlskey as string };
    } else if (['tlscacert', 'tlscert', 'tlskey'].some((f) => p.given.has(f))) {
      throw new BrigError('INVALID_ARGUMENT', '--tlscacert, --tlscert and --tlskey are used with --tlsverify only', { field: '--tlsverify' });
    }
    const { serve: start } = await import('../../../../api/serve.js');
    const engine = ctx.engine();
    const log = (line: string) => void ctx.stderr.write(`brig serve: ${line}\n`);
    // One request's fault must not take the server (and every client's stream) down: said, not fatal.
    process.on('unhandledRejection', (e) => log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
    const server = await start(engine, {
      hosts,
      ...(tls ? { tls } : {}),
      insecureTcp: v['insecure-tcp'] === true,
      umask: (m) => process.umask(m),
      log,
      ...(v['debug-memory'] === true ? { debugMemory } : {}),
    });
    // SIGTERM (and ^C): the listeners and connections close; containers are their monitors', left running.
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve(s));
    });
    log(`${signal}: closing the API (containers keep running)`);
    await server.close();
    return 0;
  },
};
