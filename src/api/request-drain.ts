/**
 * What is left of a request body once a route has read what it needs (a tar archive ends
 * at its end-of-archive blocks; tar's record padding may follow): read and dropped before
 * the answer, as Go's server does after a handler (up to 256 KiB, then it gives up), so a
 * client still writing its body does not get EPIPE on a closed connection.
 */
import type { IncomingMessage } from 'node:http';

export function drainRequest(req: IncomingMessage, limit = 256 * 1024): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded || req.destroyed) {
      resolve();
      return;
    }
    let seen = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', done);
      req.off('error', done);
      resolve();
    };
    const onData = (c: Buffer) => {
      seen += c.length;
      if (seen > limit) done();
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('error', done);
    req.resume();
  });
}
