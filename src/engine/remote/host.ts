/**
 * Where a remote engine is: docker's -H/DOCKER_HOST forms, as brig's -H/--host and BRIG_HOST
 * take them. `unix:///path` (or a bare absolute path), `tcp://HOST:PORT` (docker's default
 * port 2375 without TLS, 2376 with). TLS as docker's CLI does it: --tlsverify with a CA, a
 * client certificate and key (DOCKER_CERT_PATH's ca.pem, cert.pem, key.pem when not named).
 */
import path from 'node:path';
import { BrigError } from '../../errors/index.js';

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export type RemoteHost =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; tls?: TlsFiles; url: string };

export function parseHost(spec: string, tls?: TlsFiles): RemoteHost {
  const bad = (why: string) =>
    Object.assign(new BrigError('INVALID_ARGUMENT', `invalid host "${spec}": ${why}`, { field: '--host', hint: 'unix:///run/brig/docker.sock or tcp://127.0.0.1:2376' }), { clientSide: true });
  if (spec.startsWith('/')) spec = `unix://${spec}`;
  const m = /^([a-z]+):\/\/(.*)$/.exec(spec);
  if (!m) throw bad('no scheme (unix:// or tcp://)');
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw bad('a unix socket needs an absolute path');
    if (tls) throw bad('TLS is for tcp:// hosts');
    return { kind: 'unix', socketPath: rest, url: spec };
  }
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https') throw bad(`the scheme ${scheme} is not supported (unix, tcp)`);
  const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+)(?::(\d+))?\/?$/.exec(rest);
  if (!hp) throw bad('expected HOST:PORT');
  const host = hp[1]!.replace(/^\[|\]$/g, '');
  const port = hp[2] === undefined ? (tls ? 2376 : 2375) : Number(hp[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${hp[2]} is out of range`);
  return { kind: 'tcp', host, port, ...(tls ? { tls } : {}), url: spec };
}

/**
 * The remote host the CLI was pointed at, if any: -H/--host, else BRIG_HOST. TLS with
 * --tlsverify (or BRIG_TLS_VERIFY non-empty); the files named, else from BRIG_CERT_PATH
 * (docker's DOCKER_CERT_PATH layout), else ~/.brig.
 */
export function remoteHostFrom(opts: { host?: string; tlsverify?: boolean; tlscacert?: string; tlscert?: string; tlskey?: string }, env: NodeJS.ProcessEnv, home: string): RemoteHost | undefined {
  const spec = opts.host ?? (env.BRIG_HOST || undefined);
  if (spec === undefined) return undefined;
  const verify = opts.tlsverify === true || (env.BRIG_TLS_VERIFY ?? '') !== '';
  const named = opts.tlscacert !== undefined || opts.tlscert !== undefined || opts.tlskey !== undefined;
  if (!verify && named) throw new BrigError('INVALID_ARGUMENT', '--tlscacert, --tlscert and --tlskey are used with --tlsverify', { field: '--tlsverify' });
  const dir = env.BRIG_CERT_PATH || path.join(home, '.brig');
  const tls = verify
    ? { ca: opts.tlscacert ?? path.join(dir, 'ca.pem'), cert: opts.tlscert ?? path.join(dir, 'cert.pem'), key: opts.tlskey ?? path.join(dir, 'key.pem') }
    : undefined;
  return parseHost(spec, tls);
}
