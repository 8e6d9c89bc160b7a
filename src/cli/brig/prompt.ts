/**
 * docker's confirmation prompt (cli internal/prompt.Confirm): the message and " [y/N] " on
 * stdout, one line read from stdin (a terminal or not), yes only for "y" or "Y" (spaces
 * around are trimmed). End of input, or anything else, is no.
 */
import type { BrigContext } from './context.js';

/** One line of `input` (without its newline); what is left of the input stays unread. */
export function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (text: string) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      resolve(text);
    };
    const onData = (chunk: Buffer | string) => {
      line += chunk.toString();
      const nl = line.indexOf('\n');
      if (nl >= 0) done(line.slice(0, nl));
    };
    const onEnd = () => done(line);
    const onError = (e: Error) => {
      input.off('data', onData);
      input.off('end', onEnd);
      reject(e);
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

export async function confirm(ctx: BrigContext, message: string): Promise<boolean> {
  ctx.stdout.write(`${message} [y/N] `);
  const answer = await readLine(ctx.stdin);
  return answer.trim().toLowerCase() === 'y';
}
