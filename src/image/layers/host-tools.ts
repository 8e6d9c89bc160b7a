/**
 * Host tools brig reads with: `getfattr` (Debian's `attr`) dumps a tree's xattrs in one
 * exec when a layer is created, and `findTool` locates tools such as `cp`. Writing nodes
 * and xattrs while applying a layer is native/layerops' job (native-ops.ts).
 */
import { accessSync, constants } from 'node:fs';
import { execFileAsync } from '../../util/builtins.js';


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

/** All xattrs under `dir` (recursive, not following symlinks), keyed by absolute path. */
export async function dumpXattrs(dir: string, match = '-'): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  const bin = findTool('getfattr');
  if (bin === undefined) return out;
  const { stdout } = await execFileAsync(
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
