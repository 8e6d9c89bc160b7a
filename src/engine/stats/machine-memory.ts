/**
 * The host's memory, which docker reports as a container's limit when the cgroup's is
 * larger (no --memory: v1's 9223372036854771712, v2's "max"): MemTotal of /proc/meminfo,
 * in bytes (moby pkg/meminfo; daemon/stats_unix.go).
 */
export function parseMemTotal(text: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}
