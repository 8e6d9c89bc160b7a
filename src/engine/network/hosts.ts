/**
 * A networked container's /etc/hosts as docker writes it (libnetwork etchosts): the default
 * lines, then --add-host entries (host-gateway resolved to the network's gateway, docker's
 * "host as the container sees it"), then legacy links' entries, then the container's own
 * address with its hostname.
 */
import { isIP } from 'node:net';
import { BrigError } from '../../errors/index.js';
import { hostsFile } from '../spec/etc-files.js';

/** docker's --add-host host:ip (also host=ip); ip may be "host-gateway". */
export function parseExtraHost(entry: string): { host: string; ip: string } {
  const sep = entry.search(/[:=]/);
  if (sep <= 0) throw new BrigError('INVALID_ARGUMENT', `bad format for add-host: "${entry}"`, { field: 'HostConfig.ExtraHosts' });
  const host = entry.slice(0, sep);
  const ip = entry.slice(sep + 1).replace(/^\[(.*)\]$/, '$1');
  if (ip !== 'host-gateway' && isIP(ip) === 0) throw new BrigError('INVALID_ARGUMENT', `invalid IP address in add-host: "${ip}"`, { field: 'HostConfig.ExtraHosts' });
  return { host, ip };
}

export function containerHosts(opts: { hostname: string; domainname?: string; ip?: string; extra: string[]; gateway?: string; links?: [string, string][] }): string {
  const lines: [string, string][] = [];
  for (const e of opts.extra) {
    const { host, ip } = parseExtraHost(e);
    if (ip === 'host-gateway') {
      if (!opts.gateway) throw new BrigError('INVALID_ARGUMENT', `add-host ${host}:host-gateway needs a network with a gateway`, { field: 'HostConfig.ExtraHosts' });
      lines.push([opts.gateway, host]);
    } else lines.push([ip, host]);
  }
  // Legacy links: [ip, "alias id12 name"], as docker writes them.
  lines.push(...(opts.links ?? []));
  if (opts.ip) {
    const fqdn = opts.domainname ? `${opts.hostname}.${opts.domainname} ${opts.hostname}` : opts.hostname;
    lines.push([opts.ip, fqdn]);
  }
  return hostsFile(lines);
}
