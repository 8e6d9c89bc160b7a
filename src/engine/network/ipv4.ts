/** IPv4 arithmetic for subnets, gateways and the allocator (brig's networks are IPv4 only). */
import { BrigError } from '../../errors/index.js';

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  bits: number;
  size: number;
}

export function isIPv4(s: string): boolean {
  return /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s) && s.split('.').every((x) => Number(x) <= 255);
}

/** "10.1.0.0/16" (host bits must be zero, as docker's) -> base and size. */
export function parseCidr(text: string, field: string): Cidr {
  const [ip = '', bitsText = ''] = text.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(ip) || !/^\d+$/.test(bitsText) || bits < 8 || bits > 30) {
    throw new BrigError('INVALID_ARGUMENT', `invalid CIDR address: ${text}`, { field, hint: 'an IPv4 subnet such as 10.90.0.0/24, prefix 8 to 30' });
  }
  const size = 2 ** (32 - bits);
  const base = ipToInt(ip);
  if (base % size !== 0) throw new BrigError('INVALID_ARGUMENT', `invalid subnet ${text}: it has host bits set`, { field, hint: `did you mean ${intToIp(base - (base % size))}/${bits}?` });
  return { base, bits, size };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.bits}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + c.size;
}

/** The host's IPv4 routes (/proc/net/route), default route left out. */
export function hostRoutes(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.trim().split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string) => Buffer.from(h, 'hex').readUInt32LE(0);
    const dest = le(f[1]!);
    const mask = le(f[7]!);
    if (mask === 0) continue;
    // The hex is the address's bytes in network order, read as a little-endian word.
    const bits = mask.toString(2).replace(/0/g, '').length;
    const size = 2 ** (32 - bits);
    out.push({ base: dest - (dest % size), bits, size });
  }
  return out;
}
