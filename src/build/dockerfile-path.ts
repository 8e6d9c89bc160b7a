/**
 * A Dockerfile named by path (`build -f FILE`, compose's build.dockerfile) as the client sends
 * it, docker's CLI rule: one inside the context goes by its name there (the builder reads it
 * from the context); one outside is read here and sent as text, with NAME.dockerignore beside
 * it when there is one.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { readTextSync } from '../util/read-text.js';

/** `abs` against the context directory; undefined when it is outside and cannot be read. */
export function dockerfileFor(contextDir: string, abs: string): { name: string } | { text: string; ignoreText?: string } | undefined {
  const ctxReal = realpathSync(contextDir);
  const real = existsSync(abs) ? realpathSync(abs) : abs;
  if (real.startsWith(`${ctxReal}/`)) return { name: path.relative(ctxReal, real) };
  let text: string;
  try {
    text = readTextSync(abs);
  } catch {
    return undefined;
  }
  return { text, ...(existsSync(`${abs}.dockerignore`) ? { ignoreText: readTextSync(`${abs}.dockerignore`) } : {}) };
}
