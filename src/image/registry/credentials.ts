/**
 * Registry credentials in a docker-style config.json, read (pulls, pushes) and written
 * (`login`, `logout`) here and nowhere else:
 *
 *   - `auths`: `{"host:5000": {"auth": base64("user:password")}}`, docker's plain-text
 *     store, Docker Hub under "https://index.docker.io/v1/";
 *   - `credHelpers` (per registry host) and `credsStore` (the default): the
 *     docker-credential-<name> programs, with their store / get / erase protocol (the server
 *     on stdin; JSON {ServerURL, Username, Secret} in and out), leaving an empty `auths`
 *     entry behind as docker does.
 *
 * The file is written as docker writes it (tab-indented JSON, keys brig does not know kept)
 * but always 0600, through a temp file and a rename, so a reader never sees half of it. The
 * caller says which file (the CLI uses $DOCKER_CONFIG or ~/.docker/config.json); nothing
 * here reads the environment. Credentials are never part of an error message or a log line.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { BrigError, hasErrno } from '../../errors/index.js';
import { writeFileAtomic } from '../store/lock.js';

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

/** Where docker keeps Docker Hub's credentials, and the server `login` means without one. */
export const HUB_SERVER = 'https://index.docker.io/v1/';

const HUB_KEYS = [HUB_SERVER, 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** docker's ConvertToHostname: "https://host:5000/v2/" and "host:5000/x" are "host:5000". */
export function convertToHostname(server: string): string {
  let s = server;
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  return s.split('/')[0]!;
}

/** The registry a login server names, as references name registries (docker.io for Docker Hub). */
export function registryOf(server: string): string {
  const host = convertToHostname(server === '' ? HUB_SERVER : server);
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** docker login's key for a server: Docker Hub's URL, else the host alone. */
export function serverKey(server: string | undefined): string {
  if (server === undefined || server === '' || registryOf(server) === 'docker.io') return HUB_SERVER;
  return convertToHostname(server);
}

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

function checkHelperName(name: string): void {
  if (!/^[\w.-]+$/.test(name)) throw new BrigError('INVALID_CONFIG', `credential helper name "${name}" is not valid`);
}

/** Runs `docker-credential-<name> <verb>` with `input` on stdin: its exit and its stdout. */
function runHelper(name: string, verb: 'get' | 'store' | 'erase', input: string): Promise<{ ok: boolean; stdout: string; why: string }> {
  checkHelperName(name);
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${name}`, [verb], { timeout: 30_000 }, (err, stdout) => {
      if (err && hasErrno(err, 'ENOENT')) {
        return reject(
          new BrigError('TOOL_MISSING', `credential helper docker-credential-${name} is not installed`, {
            hint: 'install it, or remove it from the docker config.json',
          }),
        );
      }
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ ok: !err, stdout: String(stdout).trim(), why: typeof code === 'number' ? `exit status ${code}` : (err?.message ?? '') });
    });
    // A helper that exits without reading its input must not take us down with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

async function helperGet(name: string, server: string, registry: string): Promise<Credentials | undefined> {
  const r = await runHelper(name, 'get', server);
  if (!r.ok) {
    // "credentials not found" is an answer, not a failure.
    if (/not found/i.test(r.stdout)) return undefined;
    throw new BrigError('REGISTRY_UNAUTHORIZED', `credential helper ${name} failed for ${registry}`);
  }
  try {
    const v = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
    if (v.Username === '<token>') return { identityToken: v.Secret ?? '' };
    return { username: v.Username ?? '', password: v.Secret ?? '' };
  } catch {
    throw new BrigError('REGISTRY_UNAUTHORIZED', `credential helper ${name} gave malformed output`);
  }
}

function readConfig(configPath: string): Promise<DockerConfig & Record<string, unknown>> {
  return fs.readFile(configPath, 'utf8').then(
    (text) => {
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        return v as DockerConfig & Record<string, unknown>;
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
}

/**
 * Credentials from a docker config.json. A missing file means "no credentials".
 */
export function dockerConfigCredentials(configPath: string): CredentialSource {
  let loaded: Promise<DockerConfig> | undefined;
  return async (registry) => {
    const cfg = await (loaded ??= readConfig(configPath));
    const keys = keysFor(registry);
    const server = registry === 'docker.io' ? HUB_SERVER : registry;
    const h = keys.map((k) => cfg.credHelpers?.[k]).find((x) => x !== undefined);
    if (h !== undefined) return helperGet(h, server, registry);
    for (const k of keys) {
      const e = cfg.auths?.[k];
      if (e !== undefined) {
        const c = fromEntry(e, `${configPath}: auths["${k}"]`);
        if (c !== undefined) return c;
      }
    }
    if (cfg.credsStore) return helperGet(cfg.credsStore, server, registry);
    return undefined;
  };
}

/**
 * What `login` and `logout` change, for one config file. Keys are docker's: Docker Hub's
 * URL, else the registry host (serverKey).
 */
export class CredentialStore {
  constructor(readonly configPath: string) {}

  /** The helper docker would use for this key: credHelpers for its host, else credsStore. */
  private helperFor(cfg: DockerConfig, key: string): string | undefined {
    return cfg.credHelpers?.[convertToHostname(key)] ?? cfg.credHelpers?.[key] ?? (cfg.credsStore || undefined);
  }

  /** The stored credentials for a key, as pulls would use them. */
  get(key: string): Promise<Credentials | undefined> {
    return dockerConfigCredentials(this.configPath)(registryOf(key));
  }

  /**
   * Stores credentials under `key`: through the helper when one is configured (the file
   * then gets an empty entry), else base64 in `auths`. Returns the file's path when it wrote
   * them there in plain text (docker warns about that).
   */
  async store(key: string, c: { username: string; password?: string; identityToken?: string }): Promise<{ plaintext?: string }> {
    const cfg = await readConfig(this.configPath);
    const helper = this.helperFor(cfg, key);
    let entry: AuthEntry = {};
    if (helper !== undefined) {
      const token = c.identityToken !== undefined && c.identityToken !== '';
      const r = await runHelper(
        helper,
        'store',
        JSON.stringify({ ServerURL: key, Username: token ? '<token>' : c.username, Secret: token ? c.identityToken : (c.password ?? '') }),
      );
      if (!r.ok) throw new BrigError('INVALID_CONFIG', `error storing credentials - err: ${r.why}, out: \`${r.stdout}\``, { hint: `the credential helper docker-credential-${helper} refused them` });
    } else {
      entry = { auth: Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64') };
      if (c.identityToken) entry.identitytoken = c.identityToken;
    }
    const old = cfg.auths?.[key];
    // As docker: an unchanged entry is not written again (and not warned about again).
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(entry)) return {};
    await this.write({ ...cfg, auths: { ...cfg.auths, [key]: entry } });
    return helper === undefined ? { plaintext: this.configPath } : {};
  }

  /**
   * Erases `key`'s credentials: from its helper (a failure is returned, not thrown: docker
   * warns and goes on) and from `auths`. The file is rewritten only if it changes.
   */
  async erase(key: string): Promise<{ error?: string }> {
    const cfg = await readConfig(this.configPath);
    const helper = this.helperFor(cfg, key);
    let error: string | undefined;
    if (helper !== undefined) {
      const r = await runHelper(helper, 'erase', key);
      if (!r.ok) error = `error erasing credentials - err: ${r.why}, out: \`${r.stdout}\``;
    }
    if (cfg.auths !== undefined && Object.hasOwn(cfg.auths, key)) {
      const { [key]: _, ...rest } = cfg.auths;
      await this.write({ ...cfg, auths: rest });
    }
    return error === undefined ? {} : { error };
  }

  /** As docker's ConfigFile.Save: through a symlink to its target, tab-indented; always 0600. */
  private async write(cfg: DockerConfig & Record<string, unknown>): Promise<void> {
    const target = await fs.realpath(this.configPath).catch((e: unknown) => {
      if (hasErrno(e, 'ENOENT')) return this.configPath;
      throw e;
    });
    await fs.mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const st = await fs.stat(target).catch(() => undefined);
    await writeFileAtomic(target, JSON.stringify(cfg, null, '\t'), {
      mode: 0o600,
      ...(st !== undefined ? { owner: { uid: st.uid, gid: st.gid } } : {}),
    });
  }
}

/** Fixed credentials for one registry (tests, `--creds`). */
export function staticCredentials(map: Record<string, Credentials>): CredentialSource {
  return async (registry) => map[registry];
}
