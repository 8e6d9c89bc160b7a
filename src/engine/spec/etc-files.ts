/**
 * /etc/hostname, /etc/hosts and /etc/resolv.conf as docker writes them for a container
 * (moby libnetwork etchosts and resolvconf): files in the container's directory on the host,
 * bind-mounted over the image's. A container without a network (brig's only kind until
 * networks land) gets the loopback names and no address of its own; resolv.conf is the
 * host's, without loopback name servers (they would be the container's own loopback),
 * falling back to docker's public defaults when none is left, as docker does.
 */

export const ETC_FILES = ['hostname', 'hosts', 'resolv.conf'] as const;
export type EtcFile = (typeof ETC_FILES)[number];

/** docker's default /etc/hosts lines (libnetwork etchosts.defaultContent). */
const DEFAULT_HOSTS = [
  ['127.0.0.1', 'localhost'],
  ['::1', 'localhost ip6-localhost ip6-loopback'],
  ['fe00::0', 'ip6-localnet'],
  ['ff00::0', 'ip6-mcastprefix'],
  ['ff02::1', 'ip6-allnodes'],
  ['ff02::2', 'ip6-allrouters'],
];

const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export function hostsFile(extra: [string, string][] = []): string {
  return [...DEFAULT_HOSTS, ...extra].map(([ip, names]) => `${ip}\t${names}\n`).join('');
}

function isLoopback(ns: string): boolean {
  return /^127\./.test(ns) || ns === '::1' || /^0*:(0*:)*0*1$/.test(ns);
}

/** The host's resolv.conf for a container in its own network namespace. */
export function resolvConfFile(host: string): string {
  const lines = host.split('\n');
  const kept = lines.filter((l) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(l);
    return !m || !isLoopback(m[1]!);
  });
  const hasServer = kept.some((l) => /^\s*nameserver\s+\S+/.test(l));
  let text = kept.join('\n').replace(/\n*$/, '\n');
  if (text === '\n') text = '';
  if (!hasServer) text += DEFAULT_NAMESERVERS.map((n) => `nameserver ${n}\n`).join('');
  return text;
}

export function etcFiles(hostname: string, hostResolv: string): Record<EtcFile, string> {
  return { hostname: `${hostname}\n`, hosts: hostsFile(), 'resolv.conf': resolvConfFile(hostResolv) };
}
