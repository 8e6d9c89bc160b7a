/**
 * Platforms (`linux/amd64`, `linux/arm64/v8`) and choosing one image from an index the way
 * containerd's default matcher does: same os and architecture, then the best variant.
 */
import { arch } from 'node:os';
import { BrigError } from '../errors/index.js';
import type { Descriptor, Platform } from './manifest.js';

const NODE_TO_GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform of this host (linux/amd64 on the usual machine). */
export function hostPlatform(): Platform {
  const a = NODE_TO_GO_ARCH[arch()] ?? arch();
  return a === 'arm64' ? { os: 'linux', architecture: a, variant: 'v8' } : { os: 'linux', architecture: a };
}

/** Parses `os/arch[/variant]`; `amd64` alone means linux/amd64. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  const ok = /^[a-z0-9_.-]+$/;
  if (parts.length > 3 || parts.some((p) => !ok.test(p))) {
    throw new BrigError('INVALID_ARGUMENT', `invalid platform "${s}"`, {
      field: 'platform',
      hint: 'write it as os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8',
    });
  }
  const [os, given, variant] = parts.length === 1 ? ['linux', parts[0], undefined] : parts;
  const architecture = given === 'x86_64' || given === 'x86-64' ? 'amd64' : given === 'aarch64' ? 'arm64' : given;
  const p: Platform = { os: os!, architecture: architecture! };
  if (variant !== undefined) p.variant = variant;
  return normalizePlatform(p);
}

export function normalizePlatform(p: Platform): Platform {
  const out: Platform = { os: p.os, architecture: p.architecture };
  let variant = p.variant;
  if (p.architecture === 'arm64' && (variant === undefined || variant === '' || variant === '8'))
    variant = 'v8';
  if (p.architecture === 'arm' && variant !== undefined && /^\d$/.test(variant)) variant = `v${variant}`;
  if (variant !== undefined && variant !== '') out.variant = variant;
  return out;
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** Lower score is a better match; undefined when the platform cannot run. */
function score(want: Platform, have: Platform): number | undefined {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return undefined;
  if (w.variant === h.variant) return 0;
  if (w.variant === undefined) return 1;
  // An armv7 host runs armv6 and armv5 images too, preferring the closest.
  if (w.architecture === 'arm' && h.variant !== undefined) {
    const wn = Number(w.variant.slice(1));
    const hn = Number(h.variant.slice(1));
    if (hn < wn) return 1 + (wn - hn);
    return undefined;
  }
  if (h.variant === undefined) return 5;
  return undefined;
}

/**
 * Picks the manifest for `want` from an index's descriptors. Entries without a platform
 * (attestations, or single-platform indexes) are considered only when nothing else matches.
 */
export function selectPlatform(manifests: readonly Descriptor[], want: Platform, what: string): Descriptor {
  let best: Descriptor | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const d of manifests) {
    if (d.platform === undefined) continue;
    if (d.platform.os === 'unknown') continue; // buildkit attestation manifests
    const s = score(want, d.platform);
    if (s !== undefined && s < bestScore) {
      best = d;
      bestScore = s;
    }
  }
  if (best === undefined) {
    const noPlatform = manifests.filter((d) => d.platform === undefined);
    if (noPlatform.length === 1) return noPlatform[0]!;
    const have = manifests
      .filter((d) => d.platform !== undefined)
      .map((d) => formatPlatform(d.platform!))
      .join(', ');
    throw new BrigError('PLATFORM_NOT_FOUND', `${what}: no image for ${formatPlatform(want)}`, {
      hint: have ? `available: ${have}; choose one with --platform` : 'the index lists no platforms',
    });
  }
  return best;
}
