/**
 * A networked container's /etc/resolv.conf as docker writes it (libnetwork resolvconf):
 * the host's file without loopback servers, with --dns, --dns-search and --dns-option
 * replacing its nameserver, search and options lines. On a network with a resolver
 * (aardvark-dns on the gateway; docker's 127.0.0.11) that resolver comes first, so the
 * container finds its peers by name; --dns servers follow it.
 */
import { isIP } from 'node:net';
import { BrigError } from '../../errors/index.js';
import { resolvConfFile } from '../spec/etc-files.js';

export interface DnsSettings {
  servers?: string[];
  search?: string[];
  options?: string[];
}

export function checkDns(d: DnsSettings): void {
  for (const s of d.servers ?? []) if (isIP(s) === 0) throw new BrigError('INVALID_ARGUMENT', `${s} is not an ip address`, { field: 'HostConfig.Dns' });
}

export function containerResolvConf(host: string, dns: DnsSettings, resolvers: string[]): string {
  const base = resolvConfFile(host).split('\n').filter((l) => l !== '');
  const pick = (key: string) => base.filter((l) => new RegExp(`^\\s*${key}\\s`).test(l));
  const other = base.filter((l) => !/^\s*(nameserver|search|domain|options)\s/.test(l));
  const servers = [...resolvers, ...(dns.servers?.length ? dns.servers : resolvers.length ? [] : pick('nameserver').map((l) => l.trim().split(/\s+/)[1]!))];
  const search = dns.search?.length ? [`search ${dns.search.join(' ')}`] : pick('(search|domain)');
  const options = dns.options?.length ? [`options ${dns.options.join(' ')}`] : pick('options');
  return [...other, ...search, ...servers.map((s) => `nameserver ${s}`), ...options].map((l) => `${l}\n`).join('');
}
