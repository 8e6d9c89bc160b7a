/**
 * A build's progress as brig build shows it, shared with brig compose build: BuildKit's
 * plain lines, or a terminal's live view redrawn in place.
 */
import type { BuildProgress } from '../../engine/engine.js';
import { BrigError } from '../../errors/index.js';
import type { BrigContext } from './context.js';

/** Plain progress, as BuildKit's `--progress plain`: `#N name`, output lines with their time, `#N DONE 0.3s`. */
export function plainProgress(write: (s: string) => void): (p: BuildProgress) => void {
  return (p) => {
    switch (p.type) {
      case 'step':
        write(`#${p.id} ${p.name}\n`);
        break;
      case 'log':
        write(`#${p.id} ${p.seconds.toFixed(3)} ${p.text}\n`);
        break;
      case 'cached':
        write(`#${p.id} CACHED\n\n`);
        break;
      case 'done':
        write(`#${p.id} DONE ${p.seconds.toFixed(1)}s\n\n`);
        break;
      case 'error':
        write(`#${p.id} ERROR: ${p.message}\n\n`);
        break;
      case 'info':
        write(`${p.text}\n`);
        break;
    }
  };
}

/**
 * A terminal's live view: one line per step with its state and time, the running steps'
 * last output lines under them, redrawn in place (at most every 100 ms).
 */
function ttyProgress(ctx: BrigContext): { onProgress: (p: BuildProgress) => void; end: () => void } {
  const steps = new Map<number, { name: string; state: string; t0: number; secs?: number; tail: string[] }>();
  const notes: string[] = [];
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const t0 = Date.now();
  const draw = () => {
    timer = undefined;
    const width = (ctx.stderr as { columns?: number }).columns || 120;
    const cut = (s: string) => (s.length > width - 1 ? `${s.slice(0, width - 2)}…` : s);
    const lines = [`[+] Building ${((Date.now() - t0) / 1000).toFixed(1)}s (${[...steps.values()].filter((s) => s.state !== 'running').length}/${steps.size})`];
    for (const s of steps.values()) {
      const secs = s.secs ?? (Date.now() - s.t0) / 1000;
      lines.push(cut(` => ${s.state === 'cached' ? 'CACHED ' : s.state === 'error' ? 'ERROR ' : ''}${s.name}  ${secs.toFixed(1)}s`));
      if (s.state === 'running' || s.state === 'error') for (const l of s.tail) lines.push(cut(` => => ${l}`));
    }
    for (const n of notes) lines.push(cut(n));
    ctx.stderr.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
    drawn = lines.length;
  };
  const schedule = () => {
    timer ??= setTimeout(draw, 100);
  };
  return {
    onProgress: (p) => {
      if (p.type === 'info') notes.push(p.text);
      else if (p.type === 'step') steps.set(p.id, { name: p.name, state: 'running', t0: Date.now(), tail: [] });
      else {
        const s = steps.get(p.id);
        if (!s) return;
        if (p.type === 'log') {
          s.tail.push(p.text);
          if (s.tail.length > 6) s.tail.shift();
        } else {
          s.state = p.type === 'done' ? 'done' : p.type;
          s.secs = p.type === 'done' ? p.seconds : (Date.now() - s.t0) / 1000;
        }
      }
      schedule();
    },
    end: () => {
      if (timer) clearTimeout(timer);
      draw();
    },
  };
}

/**
 * The progress display of a build (`--progress`: auto, plain, tty, quiet, rawjson), shared
 * by brig build and brig compose build: onProgress is undefined when quiet; end() finishes a
 * terminal's live view.
 */
export function buildRenderer(ctx: BrigContext, progress: string): { onProgress?: (p: BuildProgress) => void; end: () => void } {
  if (!['auto', 'plain', 'tty', 'quiet', 'rawjson'].includes(progress)) throw new BrigError('INVALID_ARGUMENT', `invalid progress mode "${progress}" (auto, plain, tty, quiet)`, { field: '--progress' });
  if (progress === 'quiet') return { end: () => undefined };
  if (progress === 'rawjson') return { onProgress: (x) => ctx.stderr.write(`${JSON.stringify(x)}\n`), end: () => undefined };
  const tty = progress === 'tty' || (progress === 'auto' && (ctx.stderr as { isTTY?: boolean }).isTTY === true);
  if (tty) return ttyProgress(ctx);
  return { onProgress: plainProgress((s) => ctx.stderr.write(s)), end: () => undefined };
}

