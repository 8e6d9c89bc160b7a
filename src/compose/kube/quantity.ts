/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource): `250m` of a CPU is
 * 0.25; `256Mi` of memory is 256 × 2^20 bytes, `1G` 10^9, `128974848` bytes as written,
 * `1e3` in the exponent form; `m` is a thousandth (of a byte, for memory, rounded up as
 * Kubernetes rounds a byte value).
 */
const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The quantity's value, or undefined when it is not one. */
export function quantity(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([eE][-+]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * SUFFIX[m[3] ?? '']!;
}

/** CPUs (`250m` → 0.25). */
export function cpus(v: unknown): number | undefined {
  return quantity(v);
}

/** Bytes (`256Mi` → 268435456), whole. */
export function bytes(v: unknown): number | undefined {
  const q = quantity(v);
  return q === undefined ? undefined : Math.ceil(q);
}
