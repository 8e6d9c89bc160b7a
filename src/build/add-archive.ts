/**
 * ADD's local archives, as docker's ADD takes them: a file that is a tar, plain or compressed
 * with gzip, bzip2, xz or zstd, is unpacked into the destination; any other file (a text file
 * that happens to be gzipped included) is copied as it is. What decides is the content after
 * decompression, not the name: its first block must be a tar header.
 *
 * gzip and zstd are Node's own (zlib). Node has no bzip2 or xz: those go through the host's
 * `bzip2 -dc` and `xz -dc` (Debian's bzip2 and xz-utils), and a missing tool is an error that
 * names its package, not a silent copy.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { BrigError, hasErrno } from '../errors/index.js';
import { decompress } from '../image/layers/compression.js';
import { compression, isTarHeader } from './copy.js';

const TOOLS = { bzip2: { bin: 'bzip2', pkg: 'bzip2' }, xz: { bin: 'xz', pkg: 'xz-utils' } } as const;

/** The file's content, decompressed. Stopping early (a probe) stops the tool as well. */
async function* contents(file: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const kind = await compression(file);
  if (kind !== 'bzip2' && kind !== 'xz') {
    // gzip and zstd by their magic in decompress(); anything else passes through.
    yield* decompress(createReadStream(file), signal ? { signal } : {});
    return;
  }
  const tool = TOOLS[kind];
  const child = spawn(tool.bin, ['-dc', '--', file], { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });
  let finished = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    finished = true;
  } finally {
    if (!finished) child.kill('SIGKILL');
  }
  const end = await exited;
  if (end.error && hasErrno(end.error, 'ENOENT')) {
    throw new BrigError('TOOL_MISSING', `ADD of a ${kind} archive needs ${tool.bin}, which is not installed`, { path: file, hint: `apt-get install ${tool.pkg}` });
  }
  if (end.error) throw end.error;
  if (end.code !== 0) throw new BrigError('BUILD_CONTEXT', `${tool.bin} could not decompress ${file}: ${stderr.trim() || `exit status ${end.code}`}`, { path: file });
}

/** Whether ADD unpacks this file: its (decompressed) content starts with a tar header. */
export async function isAddArchive(file: string): Promise<boolean> {
  const head: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of contents(file)) {
      head.push(Buffer.from(chunk));
      got += chunk.byteLength;
      if (got >= 512) break;
    }
  } catch (e) {
    if (e instanceof BrigError && e.code === 'TOOL_MISSING') throw e;
    return false; // not what its magic said (a corrupt or truncated file): copied as it is
  }
  const b = Buffer.concat(head);
  return b.length >= 512 && isTarHeader(b.subarray(0, 512));
}

/** The tar stream of a file isAddArchive accepted. */
export function addArchiveTar(file: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  return contents(file, signal);
}
