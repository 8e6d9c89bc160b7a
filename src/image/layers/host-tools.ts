/**
 * What Node cannot do itself: extended attributes (setfattr/getfattr from Debian's `attr`)
 * and device nodes and fifos (`mknod` from coreutils). Batched where the tools allow, so a
 * layer costs one exec for all its xattrs.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import { BrigError } from '../../errors/index.js';

const execFileP = promisify(execFile);

const found = new Map<string, string | undefined>();

/** Absolute path of a tool in the usual system directories, or undefined. */
export function findTool(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  let path: string | undefined;
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      path = `${dir}/${name}`;
      break;
    } catch {}
  }
  found.set(name, path);
  return path;
}

function tool(name: string, pkg: string): string {
  const p = findTool(name);
  if (p === undefined) {
    throw new BrigError('TOOL_MISSING', `${name} is not installed`, { hint: `apt-get install ${pkg}` });
  }
  return p;
}

/** Escapes a byte string the way getfattr --dump quotes it (octal for anything unusual). */
function quote(b: Buffer): string {
  let s = '';
  for (const c of b) {
    s +=
      c <= 0x20 || c >= 0x7f || c === 0x5c || c === 0x3d
        ? `\\${c.toString(8).padStart(3, '0')}`
        : String.fromCharCode(c);
  }
  return s;
}

export interface XattrSet {
  path: string;
  name: string;
  value: Buffer;
}

/**
 * Sets xattrs without following a final symlink (setfattr -h --restore). Paths must be
 * absolute and already checked to be inside the target.
 */
export function setXattrs(items: readonly XattrSet[]): void {
  if (items.length === 0) return;
  const bin = tool('setfattr', 'attr');
  let dump = '';
  let last: string | undefined;
  for (const it of items) {
    if (it.path !== last) {
      dump += `\n# file: ${quote(Buffer.from(it.path))}\n`;
      last = it.path;
    }
    dump += `${quote(Buffer.from(it.name))}=0x${it.value.toString('hex')}\n`;
  }
  try {
    execFileSync(bin, ['-h', '--restore=-'], { input: dump, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '').trim();
    throw new BrigError('SYSTEM', `setting extended attributes failed: ${stderr || (e as Error).message}`, {
      path: items[0]!.path,
      cause: e,
    });
  }
}

/** All xattrs under `dir` (recursive, not following symlinks), keyed by absolute path. */
export async function dumpXattrs(dir: string, match = '-'): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  const bin = findTool('getfattr');
  if (bin === undefined) return out;
  const { stdout } = await execFileP(
    bin,
    ['-R', '-h', '-P', '-d', '-e', 'hex', '-m', match, '--absolute-names', dir],
    {
      maxBuffer: 256 << 20,
      encoding: 'buffer',
    },
  ).catch((e: { stdout?: Buffer }) => ({ stdout: e.stdout ?? Buffer.alloc(0) }));
  let current: Map<string, Buffer> | undefined;
  for (const line of stdout.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      out.set(unquote(line.slice(8)).toString('utf8'), current);
    } else if (current !== undefined && line.includes('=')) {
      const eq = line.indexOf('=');
      const name = unquote(line.slice(0, eq)).toString('utf8');
      const v = line.slice(eq + 1);
      current.set(
        name,
        v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v.replace(/^"|"$/g, '')),
      );
    }
  }
  return out;
}

function unquote(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(s.charCodeAt(i));
    }
  }
  return Buffer.from(bytes);
}

/** mknod(2) for character/block devices and fifos, through coreutils' mknod. */
export function mknod(
  path: string,
  type: 'char' | 'block' | 'fifo',
  mode: number,
  major = 0,
  minor = 0,
): void {
  const bin = tool('mknod', 'coreutils');
  const args = [
    '-m',
    (mode & 0o7777).toString(8),
    path,
    type === 'char' ? 'c' : type === 'block' ? 'b' : 'p',
  ];
  if (type !== 'fifo') args.push(String(major), String(minor));
  try {
    execFileSync(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '').trim();
    const err = new BrigError('SYSTEM', `mknod ${path} failed: ${stderr}`, { path, cause: e });
    (err as { errno?: string }).errno = /Operation not permitted/.test(stderr) ? 'EPERM' : undefined;
    throw err;
  }
}
