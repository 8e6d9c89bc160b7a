/**
 * docker's prompts (internal/prompt): the question on stdout, one line of answer from stdin,
 * whatever stdin is (a terminal, a pipe, a file: `yes | brig image prune` answers), end of
 * input an empty answer. A hidden read (passwords) turns the terminal's echo off meanwhile.
 * Reads leave stdin paused and open, so a second prompt can follow.
 */
import type { ReadStream } from 'node:tty';
import type { BrigContext } from './context.js';

type Input = NodeJS.ReadableStream & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>;

/**
 * `prompt` on `out`, then one line from stdin (without its line ending); what came before the
 * end of input at EOF. A hidden read turns echo off before the prompt is shown, as docker's
 * DisableInputEcho does, so what is typed at once is not echoed either.
 */
export function readLine(stdin: Input, opts: { hidden?: boolean; prompt?: string; out?: NodeJS.WritableStream } = {}): Promise<string> {
  const raw = opts.hidden === true && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode!(true);
  if (opts.prompt !== undefined) opts.out?.write(opts.prompt);
  return new Promise((resolve) => {
    let line = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.pause();
      if (raw) stdin.setRawMode!(false);
      resolve(line.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string) => {
      for (const c of String(chunk)) {
        if (c === '\n' || (raw && c === '\r')) return finish();
        // Raw mode delivers what the terminal would have handled: erase, ctrl-c, ctrl-d.
        if (raw && (c === '\x7f' || c === '\b')) line = [...line].slice(0, -1).join('');
        else if (raw && c === '\x03') {
          stdin.setRawMode!(false);
          process.kill(process.pid, 'SIGINT');
        } else if (raw && c === '\x04') return finish();
        else line += c;
      }
    };
    stdin.on('data', onData);
    stdin.on('end', finish);
    stdin.resume();
  });
}

/** docker's prompt.Confirm: "MESSAGE [y/N] ", and yes only for y or Y. */
export async function confirm(ctx: BrigContext, message: string): Promise<boolean> {
  return (await readLine(ctx.stdin, { prompt: `${message} [y/N] `, out: ctx.stdout })).trim().toLowerCase() === 'y';
}
