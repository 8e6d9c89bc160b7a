/**
 * Registry credentials from a docker-style config.json (`auths`, `credHelpers`,
 * `credsStore`). The caller says which file (the CLI reads $DOCKER_CONFIG or
 * ~/.docker/config.json); nothing here reads the environment. Credentials stay inside the
 * client: they are never part of an error message or a log line.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { BrigError, hasErrno } from '../../errors/index.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`). */
  identityToken?: string;
}

export type CredentialSource = (registry: string) => Promise<Credentials | undefined>;

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** The config keys that can hold credentials for a registry host. */
function keysFor(registry: string): string[] {
  if (registry === 'docker.io') return HUB_KEYS;
  return [
    registry,
    `https://${registry}`,
    `http://${registry}`,
    `https://${registry}/v1/`,
    `https://${registry}/v2/`,
  ];
}

function fromEntry(e: AuthEntry, where: string): Credentials | undefined {
  const c: Credentials = {};
  if (e.auth !== undefined && e.auth !== '') {
    const text = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) {
      throw new BrigError('INVALID_CONFIG', `${where}: "auth" is not base64 of user:password`, {
        field: where,
      });
    }
    c.username = text.slice(0, colon);
    c.password = text.slice(colon + 1);
  } else if (e.username !== undefined) {
    c.username = e.username;
    c.password = e.password ?? '';
  }
  if (e.identitytoken) c.identityToken = e.identitytoken;
  return c.username !== undefined || c.identityToken !== undefined ? c : undefined;
}

function helper(name: string, registry: string): Promise<Credentials | undefined> {
  if (!/^[\w.-]+$/.test(name)) {
    return Promise.reject(new BrigError('INVALID_CONFIG', `credential helper name "${name}" is not valid`));
  }
  const server = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${name}`, ['get'], { timeout: 30_000 }, (err, stdout) => {
      if (err) {
        // "credentials not found" is an answer, not a failure.
        if (/not found/i.test(String(stdout))) return resolve(undefined);
        if (hasErrno(err, 'ENOENT')) {
          return reject(
            new BrigError('TOOL_MISSING', `credential helper docker-credential-${name} is not installed`, {
              hint: 'install it, or remove it from the docker config.json',
            }),
          );
        }
        return reject(
          new BrigError('REGISTRY_UNAUTHORIZED', `credential helper ${name} failed for ${registry}`),
        );
      }
      try {
        const v = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (v.Username === '<token>') resolve({ identityToken: v.Secret ?? '' });
        else resolve({ username: v.Username ?? '', password: v.Secret ?? '' });
      } catch {
        reject(new BrigError('REGISTRY_UNAUTHORIZED', `credential helper ${name} gave malformed output`));
      }
    });
    child.stdin?.end(server);
  });
}

/**
 * Credentials from a docker config.json. A missing file means "no credentials".
 */
export function dockerConfigCredentials(configPath: string): CredentialSource {
  let loaded: Promise<DockerConfig> | undefined;
  const load = (): Promise<DockerConfig> => {
    loaded ??= fs.readFile(configPath, 'utf8').then(
      (text) => {
        try {
          return JSON.parse(text) as DockerConfig;
        } catch (e) {
          throw new BrigError('INVALID_CONFIG', `${configPath} is not valid JSON`, {
            path: configPath,
            cause: e,
          });
        }
      },
      (e: unknown) => {
        if (hasErrno(e, 'ENOENT')) return {};
        throw e;
      },
    );
    return loaded;
  };
  return async (registry) => {
    const cfg = await load();
    const keys = keysFor(registry);
    const h = keys.map((k) => cfg.credHelpers?.[k]).find((x) => x !== undefined);
    if (h !== undefined) return helper(h, registry);
    for (const k of keys) {
      const e = cfg.auths?.[k];
      if (e !== undefined) {
        const c = fromEntry(e, `${configPath}: auths["${k}"]`);
        if (c !== undefined) return c;
      }
    }
    if (cfg.credsStore) return helper(cfg.credsStore, registry);
    return undefined;
  };
}

/** Fixed credentials for one registry (tests, `--creds`). */
export function staticCredentials(map: Record<string, Credentials>): CredentialSource {
  return async (registry) => map[registry];
}
