/**
 * docker's prompts (cli internal/prompt): the question on stdout, one line read from stdin
 * (a terminal or not: `yes | brig image prune` answers), end of input an empty answer.
 * Confirm says yes only for "y" or "Y" (spaces around are trimmed); anything else is no. A
 * hidden read (login's password) turns the terminal's echo off before the question is
 * shown, as docker's DisableInputEcho does. Reads leave stdin paused and open, so a second
 * prompt can follow.
 */
import type { ReadStream } from 'node:tty';
import type { BrigContext } from './context.js';

type Input = NodeJS.ReadableStream & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>;

/**
 * `prompt` on `out` (if given), then one line of `input` (without its line ending); what is
 * left of the input stays unread. With `hidden` on a terminal the line is read in raw mode
 * (no echo; erase, ctrl-c and ctrl-d handled here), switched on before the prompt appears.
 */
export function readLine(input: Input, opts: { hidden?: boolean; prompt?: string; out?: NodeJS.WritableStream } = {}): Promise<string> {
  const raw = opts.hidden === true && input.isTTY === true && typeof input.setRawMode === 'function';
  if (raw) input.setRawMode!(true);
  if (opts.prompt !== undefined) opts.out?.write(opts.prompt);
  return new Promise((resolve, reject) => {
    let line = '';
    const stop = () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      if (raw) input.setRawMode!(false);
    };
    const done = (text: string) => {
      stop();
      resolve(text.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string) => {
      for (const c of chunk.toString()) {
        if (c === '\n' || (raw && c === '\r')) return done(line);
        // Raw mode delivers what the terminal would have handled: erase, ctrl-c, ctrl-d.
        if (raw && (c === '\x7f' || c === '\b')) line = [...line].slice(0, -1).join('');
        else if (raw && c === '\x03') {
          stop();
          process.kill(process.pid, 'SIGINT');
        } else if (raw && c === '\x04') return done(line);
        else line += c;
      }
    };
    const onEnd = () => done(line);
    const onError = (e: Error) => {
      stop();
      reject(e);
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

export async function confirm(ctx: BrigContext, message: string): Promise<boolean> {
  const answer = await readLine(ctx.stdin, { prompt: `${message} [y/N] `, out: ctx.stdout });
  return answer.trim().toLowerCase() === 'y';
}
