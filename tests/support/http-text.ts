/** A plain GET of / on the host's loopback: the body as text (a published port's answer). */
import { get } from 'node:http';

export function fetchText(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host, port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}
