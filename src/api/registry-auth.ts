/**
 * The X-Registry-Auth header (docker's registry.DecodeAuthConfig): base64url of a JSON
 * AuthConfig {username, password, auth, identitytoken, serveraddress}, with or without
 * padding, standard base64 too. docker ignores a header it cannot decode ("to increase
 * compatibility with the existing API", image_routes.go) and pulls anonymously; so does
 * brig, using then its own credentials (the server's docker config), as `brig pull` does.
 */
import type { IncomingMessage } from 'node:http';
import type { RegistryCredentials } from '../engine/engine.js';

export function registryAuth(req: IncomingMessage): RegistryCredentials | undefined {
  const header = req.headers['x-registry-auth'];
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(Buffer.from(header.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof cfg !== 'object' || cfg === null) return undefined;
  const c = cfg as Record<string, unknown>;
  const str = (k: string) => (typeof c[k] === 'string' && c[k] !== '' ? (c[k] as string) : undefined);
  let username = str('username');
  let password = str('password');
  // `auth` is base64("user:password"), as in config.json; the CLI decodes it, other clients may not.
  const auth = str('auth');
  if (username === undefined && auth !== undefined) {
    const plain = Buffer.from(auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) [username, password] = [plain.slice(0, colon), plain.slice(colon + 1)];
  }
  const identityToken = str('identitytoken');
  if (username === undefined && identityToken === undefined) return undefined;
  return { ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}), ...(identityToken !== undefined ? { identityToken } : {}) };
}
