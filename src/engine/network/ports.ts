/**
 * Published ports: docker's `-p [ip:][hostPort:]containerPort[/tcp|udp]` (nat.ParsePortSpec:
 * ranges on either side, an IPv6 host address in brackets, an empty or missing host port for
 * "any free one"), the PortBindings map docker keeps in HostConfig, and the step from that map
 * to concrete mappings at start: host ports chosen, and checked free on the host.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { isIP } from 'node:net';
import { BrigError } from '../../errors/index.js';
import type { PortMapping } from './backend.js';

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}
/** docker's nat.PortMap: "80/tcp" -> bindings. */
export type PortMap = Record<string, PortBinding[]>;

function bad(spec: string, why: string): BrigError {
  return new BrigError('INVALID_ARGUMENT', `invalid port specification "${spec}": ${why}`, { field: '--publish' });
}

function range(spec: string, text: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw bad(spec, `invalid ${what} "${text}"`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) throw bad(spec, `invalid ${what} "${text}" (1-65535, low-high)`);
  return [lo, hi];
}

/** One -p value into ExposedPorts keys and PortBindings entries (docker's nat.ParsePortSpecs). */
export function parsePortSpec(spec: string): { port: string; binding: PortBinding }[] {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (proto !== 'tcp' && proto !== 'udp') throw bad(spec, `invalid protocol "${proto}" (tcp or udp)`);
  }
  let ip = '';
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0 || rest[end + 1] !== ':') throw bad(spec, 'an IPv6 address in brackets must be followed by ":"');
    ip = rest.slice(1, end);
    rest = rest.slice(end + 2);
    if (isIP(ip) !== 6) throw bad(spec, `invalid IP address "${ip}"`);
  }
  const parts = rest.split(':');
  if (parts.length > 3 || (ip && parts.length > 2)) throw bad(spec, 'too many colons');
  let hostText = '';
  let containerText: string;
  if (parts.length === 3) [ip, hostText, containerText] = parts as [string, string, string];
  else if (parts.length === 2) [hostText, containerText] = parts as [string, string];
  else containerText = parts[0]!;
  if (ip && isIP(ip) === 0) throw bad(spec, `invalid IP address "${ip}"`);
  if (containerText === '') throw bad(spec, 'no container port');
  const [cLo, cHi] = range(spec, containerText, 'container port');
  const host = hostText === '' ? undefined : range(spec, hostText, 'host port');
  const n = cHi - cLo + 1;
  if (host && n > 1 && host[1] - host[0] + 1 !== n) throw bad(spec, 'the host and container port ranges differ in size');
  const out: { port: string; binding: PortBinding }[] = [];
  for (let i = 0; i < n; i++) {
    let hostPort = '';
    if (host) hostPort = n > 1 ? String(host[0] + i) : host[0] === host[1] ? String(host[0]) : `${host[0]}-${host[1]}`;
    out.push({ port: `${cLo + i}/${proto}`, binding: { HostIp: ip, HostPort: hostPort } });
  }
  return out;
}

export function parsePortSpecs(specs: string[]): { exposed: Record<string, Record<string, never>>; bindings: PortMap } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: PortMap = {};
  for (const s of specs) {
    for (const { port, binding } of parsePortSpec(s)) {
      exposed[port] = {};
      (bindings[port] ??= []).push(binding);
    }
  }
  return { exposed, bindings };
}

/** docker's -P: every exposed port not already published, to a free host port. */
export function publishAll(exposed: Record<string, unknown>, bindings: PortMap): PortMap {
  const out: PortMap = { ...bindings };
  for (const port of Object.keys(exposed)) if (!out[port]?.length) out[port] = [{ HostIp: '', HostPort: '' }];
  return out;
}

/** Checks a PortBindings map from the API (its keys and values) as the CLI's parser would. */
export function checkPortMap(map: PortMap): void {
  for (const [key, list] of Object.entries(map)) {
    const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(key);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new BrigError('INVALID_ARGUMENT', `invalid port "${key}"`, { field: `HostConfig.PortBindings[${key}]` });
    for (const b of list ?? []) {
      if (b.HostIp && isIP(b.HostIp) === 0) throw new BrigError('INVALID_ARGUMENT', `invalid host IP "${b.HostIp}"`, { field: `HostConfig.PortBindings[${key}].HostIp` });
      if (b.HostPort && !/^\d+(-\d+)?$/.test(b.HostPort)) throw new BrigError('INVALID_ARGUMENT', `invalid host port "${b.HostPort}"`, { field: `HostConfig.PortBindings[${key}].HostPort` });
    }
  }
}

/** Whether the host lets us bind ip:port now (nobody listens there). */
export function portFree(ip: string, port: number, proto: 'tcp' | 'udp'): Promise<boolean> {
  const host = ip || '0.0.0.0';
  return new Promise((resolve) => {
    if (proto === 'udp') {
      const s = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      s.once('error', () => resolve(false));
      s.bind(port, host, () => s.close(() => resolve(true)));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel picks as free for ip (its ephemeral range), as docker's allocator picks one. */
function anyFreePort(ip: string, proto: 'tcp' | 'udp'): Promise<number> {
  const host = ip || '0.0.0.0';
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const s = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      s.once('error', reject);
      s.bind(0, host, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
      return;
    }
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/**
 * PortBindings into mappings with host ports: given ports must be free on the host and not
 * held by another container (`held`, "tcp/8080"); empty ones get a free port; a host range for
 * one container port gets its first free port.
 */
export async function resolvePorts(map: PortMap, held: (proto: string, port: number) => boolean): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  const taken = new Set<string>();
  const usable = async (ip: string, port: number, proto: 'tcp' | 'udp') => !taken.has(`${proto}/${port}`) && !held(proto, port) && (await portFree(ip, port, proto));
  for (const [key, list] of Object.entries(map)) {
    const [cp, protoText = 'tcp'] = key.split('/');
    const proto = protoText as 'tcp' | 'udp';
    for (const b of list ?? []) {
      const ip = b.HostIp ?? '';
      let hostPort: number | undefined;
      if (!b.HostPort) {
        for (let i = 0; i < 20 && hostPort === undefined; i++) {
          const p = await anyFreePort(ip, proto);
          if (await usable(ip, p, proto)) hostPort = p;
        }
      } else {
        const [lo, hi = lo] = b.HostPort.split('-').map(Number) as [number, number?];
        for (let p = lo; p <= hi! && hostPort === undefined; p++) if (await usable(ip, p, proto)) hostPort = p;
        if (hostPort === undefined) {
          const where = `${ip || '0.0.0.0'}:${b.HostPort}`;
          throw new BrigError('PORT_IN_USE', `Bind for ${where} failed: port is already allocated`, { field: `HostConfig.PortBindings[${key}]`, hint: 'pick another host port, or leave it out for a free one' });
        }
      }
      if (hostPort === undefined) throw new BrigError('PORT_IN_USE', `no free host port for ${key}`, { field: `HostConfig.PortBindings[${key}]` });
      taken.add(`${proto}/${hostPort}`);
      out.push({ hostIp: ip, hostPort, containerPort: Number(cp), protocol: proto, range: 1 });
    }
  }
  return out;
}

/** NetworkSettings.Ports as docker shows it: every exposed port, with its bindings or null. */
export function portsView(exposed: Record<string, unknown> | undefined, mappings: PortMapping[]): Record<string, PortBinding[] | null> {
  const out: Record<string, PortBinding[] | null> = {};
  for (const k of Object.keys(exposed ?? {})) out[k] = null;
  for (const m of mappings) (out[`${m.containerPort}/${m.protocol}`] ??= [])!.push({ HostIp: m.hostIp || '0.0.0.0', HostPort: String(m.hostPort) });
  return out;
}
