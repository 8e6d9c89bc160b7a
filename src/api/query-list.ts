/**
 * A query parameter given more than once (docker's r.Form["changes"], ?names=a&names=b),
 * which Query (one value a name) does not give.
 */
import type { IncomingMessage } from 'node:http';

export function queryList(req: IncomingMessage, name: string): string[] {
  return new URL(req.url ?? '/', 'http://brig').searchParams.getAll(name);
}
