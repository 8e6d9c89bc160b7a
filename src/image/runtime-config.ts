/**
 * Image config -> OCI runtime config, following the OCI image spec's conversion.md and
 * what docker and podman do on top of it:
 *
 *   - process.args = Entrypoint + Cmd. An overriding entrypoint drops the image's Cmd
 *     (docker's rule), an overriding cmd replaces Cmd only.
 *   - process.env = image Env, then overrides by variable name; PATH and HOME get docker's
 *     defaults when neither sets them.
 *   - process.cwd = WorkingDir (made absolute), default `/`.
 *   - process.user from `User` (`name`, `uid`, `name:group`, `uid:gid`, ...), looked up in the
 *     image's own /etc/passwd and /etc/group — read inside the rootfs, never through a
 *     symlink that leaves it — with supplementary groups from /etc/group.
 *   - annotations: Labels, plus `org.opencontainers.image.stopSignal`,
 *     `org.opencontainers.image.exposedPorts`, `.os`, `.architecture`, `.author`, `.created`.
 *   - The stop signal, volumes and exposed ports are returned alongside, for the engine.
 *
 * The runtime's full spec types live in src/runtime/spec/types.ts; `RuntimeConfigPart` is
 * the subset filled here, with the OCI field names, so it can be spread into a full spec.
 */
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { posix } from 'node:path';
import { BrigError, hasErrno } from '../errors/index.js';
import type { ImageConfig } from './manifest.js';
import { resolveInScope } from './fs-util.js';

export interface RuntimeUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface RuntimeConfigPart {
  ociVersion: string;
  process: {
    terminal?: boolean;
    user: RuntimeUser;
    args: string[];
    env: string[];
    cwd: string;
  };
  root: { path: string; readonly?: boolean };
  annotations: Record<string, string>;
}

export interface RuntimeOverrides {
  /** Replaces the image Entrypoint (docker `--entrypoint`; `[]` clears it). */
  entrypoint?: string[];
  /** Replaces the image Cmd (the arguments after the image name). */
  cmd?: string[];
  /** KEY=VALUE entries overriding the image's by name. */
  env?: string[];
  workdir?: string;
  /** `user`, `uid`, `user:group`, `uid:gid`. */
  user?: string;
  /** Extra supplementary groups, by name or id (`--group-add`). */
  groupAdd?: string[];
  tty?: boolean;
  readonlyRootfs?: boolean;
  /** root.path to write in the config (default: the rootfs directory given). */
  rootPath?: string;
  /** Extra annotations (win over labels). */
  annotations?: Record<string, string>;
}

export interface ImageRuntimeConfig {
  spec: RuntimeConfigPart;
  /** `SIGTERM` unless the image says otherwise. */
  stopSignal: string;
  /** Container paths the image declares as volumes. */
  volumes: string[];
  /** `80/tcp`, `53/udp`, ... */
  exposedPorts: string[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_DB = 16 << 20;

const SIGNALS = [
  'HUP',
  'INT',
  'QUIT',
  'ILL',
  'TRAP',
  'ABRT',
  'BUS',
  'FPE',
  'KILL',
  'USR1',
  'SEGV',
  'USR2',
  'PIPE',
  'ALRM',
  'TERM',
  'STKFLT',
  'CHLD',
  'CONT',
  'STOP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'XCPU',
  'XFSZ',
  'VTALRM',
  'PROF',
  'WINCH',
  'IO',
  'PWR',
  'SYS',
];

/** Normalises a stop signal: `TERM`, `sigterm`, `15`, `SIGRTMIN+3` -> `SIGTERM`, ... */
export function parseStopSignal(s: string | undefined): string {
  if (s === undefined || s === '') return 'SIGTERM';
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= SIGNALS.length) return `SIG${SIGNALS[n - 1]}`;
    if (n >= 34 && n <= 64) return n === 34 ? 'SIGRTMIN' : `SIGRTMIN+${n - 34}`;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  if (SIGNALS.includes(name) || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name)) return `SIG${name}`;
  throw new BrigError('INVALID_CONFIG', `stop signal "${s}" is not a signal`, { field: 'config.StopSignal' });
}

/**
 * Reads a file of the rootfs as the container would see it: symlinks are followed with
 * the rootfs as `/` (`..` stops at the root), so nothing outside `root` is read.
 * Returns undefined when the file does not exist.
 */
export async function readFileInRoot(root: string, path: string, max = MAX_DB): Promise<Buffer | undefined> {
  const real = resolveInScope(root, path, {
    maxHops: 40,
    tooMany: () => new BrigError('INVALID_CONFIG', `too many symlinks resolving ${path} in the image`, { path }),
  });
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (hasErrno(e, 'ENOENT') || hasErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    if (st.size > max)
      throw new BrigError('INVALID_CONFIG', `${path} in the image is larger than ${max} bytes`, { path });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || f[2] === '' || f[3] === '') continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (!Number.isSafeInteger(gid) || f[2] === '') continue;
    out.push({ name: f[0]!, gid, members: f[3]!.split(',').filter(Boolean) });
  }
  return out;
}

const ID = /^\d+$/;
const MAX_ID = 2 ** 32 - 2;

function numericId(s: string, field: string): number {
  const n = Number(s);
  if (n > MAX_ID) throw new BrigError('INVALID_CONFIG', `${field} ${s} is out of range`, { field });
  return n;
}

/** Resolves `User` against the image's passwd and group files (docker's rules). */
export async function resolveUser(
  rootfs: string,
  spec: string,
  groupAdd: string[] = [],
): Promise<RuntimeUser & { home: string; username?: string }> {
  const [userPart = '', groupPart] = spec.split(':', 2);
  // Even a numeric uid needs the files: its primary group, home and supplementary groups.
  const [passwdRaw, groupRaw] = await Promise.all([
    readFileInRoot(rootfs, '/etc/passwd'),
    readFileInRoot(rootfs, '/etc/group'),
  ]);
  const passwd = parsePasswd(passwdRaw?.toString('utf8') ?? '');
  const groups = parseGroup(groupRaw?.toString('utf8') ?? '');
  const field = 'config.User';
  let uid: number;
  let gid = 0;
  let home = '/';
  let username: string | undefined;
  if (userPart === '') {
    uid = 0;
  } else if (ID.test(userPart)) {
    uid = numericId(userPart, field);
  } else {
    const p = passwd.find((e) => e.name === userPart);
    if (p === undefined) {
      throw new BrigError(
        'INVALID_CONFIG',
        `unable to find user ${userPart}: no matching entries in the image's /etc/passwd`,
        {
          field,
          hint: 'use a numeric uid, or add the user to the image',
        },
      );
    }
    uid = p.uid;
  }
  const pw =
    ID.test(userPart) || userPart === ''
      ? passwd.find((e) => e.uid === uid)
      : passwd.find((e) => e.name === userPart);
  if (pw !== undefined) {
    gid = pw.gid;
    home = pw.home || '/';
    username = pw.name;
  }
  const lookupGroup = (g: string, f: string): number => {
    if (ID.test(g)) return numericId(g, f);
    const e = groups.find((x) => x.name === g);
    if (e === undefined) {
      throw new BrigError(
        'INVALID_CONFIG',
        `unable to find group ${g}: no matching entries in the image's /etc/group`,
        {
          field: f,
        },
      );
    }
    return e.gid;
  };
  const explicitGroup = groupPart !== undefined && groupPart !== '';
  if (explicitGroup) gid = lookupGroup(groupPart, field);
  const extra = new Set<number>();
  // Supplementary groups from /etc/group apply when the group was not set explicitly (docker).
  if (username !== undefined && !explicitGroup) {
    for (const g of groups) if (g.members.includes(username) && g.gid !== gid) extra.add(g.gid);
  }
  for (const g of groupAdd) extra.add(lookupGroup(g, 'groupAdd'));
  const out: RuntimeUser & { home: string; username?: string } = { uid, gid, home };
  if (extra.size > 0) out.additionalGids = [...extra].sort((a, b) => a - b);
  if (username !== undefined) out.username = username;
  return out;
}

function envName(e: string): string {
  const eq = e.indexOf('=');
  return eq < 0 ? e : e.slice(0, eq);
}

/** Merges env lists by variable name, later lists winning, keeping first-seen order. */
export function mergeEnv(...lists: (readonly string[] | undefined)[]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) for (const e of list ?? []) map.set(envName(e), e);
  return [...map.values()];
}

export async function imageToRuntimeConfig(
  image: ImageConfig,
  rootfsDir: string,
  overrides: RuntimeOverrides = {},
): Promise<ImageRuntimeConfig> {
  const c = image.config ?? {};
  const entrypoint = overrides.entrypoint ?? c.Entrypoint ?? [];
  const cmd = overrides.cmd ?? (overrides.entrypoint !== undefined ? [] : (c.Cmd ?? []));
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new BrigError('INVALID_CONFIG', 'no command specified: the image has no Entrypoint or Cmd', {
      field: 'config.Cmd',
      hint: 'give a command after the image name',
    });
  }
  for (const e of [...(c.Env ?? []), ...(overrides.env ?? [])]) {
    if (envName(e) === '' || e.includes('\0')) {
      throw new BrigError('INVALID_CONFIG', `environment entry "${e}" is not NAME=value`, { field: 'env' });
    }
  }
  const user = await resolveUser(rootfsDir, overrides.user ?? c.User ?? '', overrides.groupAdd);
  const defaults = [`PATH=${DEFAULT_PATH}`, `HOME=${user.home}`];
  const env = mergeEnv(defaults, c.Env, overrides.env);
  const wd = overrides.workdir ?? c.WorkingDir ?? '';
  const cwd = posix.normalize(`/${wd}`);
  const stopSignal = parseStopSignal(c.StopSignal);
  const exposedPorts = Object.keys(c.ExposedPorts ?? {}).sort();
  const volumes = Object.keys(c.Volumes ?? {}).sort();
  const annotations: Record<string, string> = { ...(c.Labels ?? {}) };
  annotations['org.opencontainers.image.os'] = image.os;
  annotations['org.opencontainers.image.architecture'] = image.architecture;
  if (image.variant) annotations['org.opencontainers.image.variant'] = image.variant;
  if (image.author) annotations['org.opencontainers.image.author'] = image.author;
  if (image.created) annotations['org.opencontainers.image.created'] = image.created;
  if (c.StopSignal) annotations['org.opencontainers.image.stopSignal'] = c.StopSignal;
  if (exposedPorts.length > 0) annotations['org.opencontainers.image.exposedPorts'] = exposedPorts.join(',');
  Object.assign(annotations, overrides.annotations);
  const processUser: RuntimeUser = { uid: user.uid, gid: user.gid };
  if (user.additionalGids) processUser.additionalGids = user.additionalGids;
  const spec: RuntimeConfigPart = {
    ociVersion: '1.2.0',
    process: { user: processUser, args, env, cwd },
    root: { path: overrides.rootPath ?? rootfsDir },
    annotations,
  };
  if (overrides.tty !== undefined) spec.process.terminal = overrides.tty;
  if (overrides.readonlyRootfs) spec.root.readonly = true;
  return { spec, stopSignal, volumes, exposedPorts };
}
