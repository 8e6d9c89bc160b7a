/**
 * Two backends behind one: networks with a resolver go to `dns` (netavark with aardvark-dns),
 * the others to `plain` (brig's bridge driver). A request is split by its attachments; the
 * published ports go with the container's first network, as docker publishes on it. The
 * monitor's one teardown command runs both halves in turn when a container is on both kinds.
 */
import type { AttachmentResult, NetworkBackend, SetupRequest, SetupResult } from './backend.js';

export class SplitBackend implements NetworkBackend {
  readonly name: string;

  constructor(
    private readonly dns: NetworkBackend,
    private readonly plain: NetworkBackend,
  ) {
    this.name = `${plain.name}+${dns.name}`;
  }

  /** Each half of `req` with its backend; a half with no attachment is left out. */
  split(req: SetupRequest): { backend: NetworkBackend; req: SetupRequest }[] {
    const firstDns = req.attachments[0]?.network.dns ?? false;
    const out: { backend: NetworkBackend; req: SetupRequest }[] = [];
    for (const [backend, dns] of [
      [this.plain, false],
      [this.dns, true],
    ] as const) {
      const attachments = req.attachments.filter((a) => a.network.dns === dns);
      if (attachments.length) out.push({ backend, req: { ...req, attachments, ports: firstDns === dns ? req.ports : [] } });
    }
    return out;
  }

  /** What either lacks (a network with DNS needs netavark; the default bridge does not). */
  unavailable(): string | undefined {
    const why = [this.plain.unavailable(), this.dns.unavailable()].filter(Boolean);
    return why.length ? why.join('; ') : undefined;
  }

  async setup(req: SetupRequest, opts: { signal?: AbortSignal } = {}): Promise<SetupResult> {
    const parts = this.split(req);
    const done: typeof parts = [];
    const results: SetupResult[] = [];
    try {
      for (const p of parts) {
        results.push(await p.backend.setup(p.req, opts));
        done.push(p);
      }
    } catch (e) {
      for (const p of done.reverse()) await p.backend.teardown(p.req).catch(() => undefined);
      throw e;
    }
    return SplitBackend.merge(req, results);
  }

  /** The namespace with the plain half's process, when there is one; the DNS half after it. */
  setupNewNetns(req: SetupRequest): { made: Promise<void>; done: Promise<SetupResult> } | undefined {
    const parts = this.split(req);
    const plain = parts.find((p) => p.backend === this.plain);
    const fused = plain && this.plain.setupNewNetns?.(plain.req);
    if (!plain || !fused) return undefined;
    const dns = parts.find((p) => p.backend === this.dns);
    const done = (async () => {
      const first = await fused.done;
      if (!dns) return first;
      let second: SetupResult;
      try {
        second = await this.dns.setup(dns.req);
      } catch (e) {
        await this.plain.teardown(plain.req).catch(() => undefined);
        throw e;
      }
      return SplitBackend.merge(req, [first, second]);
    })();
    done.catch(() => undefined);
    return { made: fused.made, done };
  }

  /** Results in the request's order (eth0 first), whichever backend made each. */
  private static merge(req: SetupRequest, results: SetupResult[]): SetupResult {
    const byIf = new Map<string, AttachmentResult>(results.flatMap((r) => r.attachments.map((a) => [a.ifname, a] as const)));
    return { attachments: req.attachments.flatMap((a) => byIf.get(a.ifname) ?? []), dnsServers: results.flatMap((r) => r.dnsServers) };
  }

  /** netavark's half first: it needs the namespace, which the plain half may release. */
  async teardown(req: SetupRequest, opts: { signal?: AbortSignal; releaseNetns?: boolean } = {}): Promise<void> {
    const errors: unknown[] = [];
    const parts = this.split(req).reverse();
    for (const [i, p] of parts.entries()) {
      const release = opts.releaseNetns === true && i === parts.length - 1 && p.backend === this.plain;
      await p.backend.teardown(p.req, { ...opts, releaseNetns: release }).catch((e: unknown) => errors.push(e));
    }
    if (errors.length) throw errors[0];
  }

  async teardownCommand(req: SetupRequest, file: string): Promise<{ argv: string[]; env: string[] }> {
    const parts = this.split(req);
    const cmds = await Promise.all(parts.map((p, i) => p.backend.teardownCommand(p.req, i === 0 ? file : `${file}.${i}`)));
    if (cmds.length === 1) return cmds[0]!;
    if (cmds.length === 0) return this.plain.teardownCommand(req, file);
    // Both, each whatever the other's status: `sh -c '"$@"' with each argv quoted.
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = cmds.map((c) => c.argv.map(quote).join(' ')).join('; ');
    return { argv: ['/bin/sh', '-c', script], env: [...new Set(cmds.flatMap((c) => c.env))] };
  }

  async idle(): Promise<void> {
    await Promise.all([this.plain.idle(), this.dns.mayHaveChains() ? this.dns.idle() : undefined]);
  }

  mayHaveChains(): boolean {
    return this.plain.mayHaveChains() || this.dns.mayHaveChains();
  }

  async sweep(): Promise<void> {
    await Promise.all([this.plain.sweep(), this.dns.sweep()]);
  }
}
