/**
 * Phase marks for finding where a command's time goes (`BRIG_TIMING=1 brig run ...`): each
 * mark is the time since the process started. The CLI installs the sink; with none installed
 * a mark costs one comparison, so marks can stay on the hot path.
 */
export type TimingSink = (name: string, msSinceStart: number) => void;

let sink: TimingSink | undefined;

export function setTimingSink(s: TimingSink | undefined): void {
  sink = s;
}

export function mark(name: string): void {
  // process.uptime(), not performance.now(): the `performance` global loads perf_hooks (~1 ms).
  if (sink) sink(name, process.uptime() * 1000);
}
