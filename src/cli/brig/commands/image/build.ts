/**
 * brig build (and `image build`, `builder build`): docker's flags, the client's half of a
 * build (which Dockerfile, which context, where output goes) and the progress display; the
 * engine builds (Engine.buildImage).
 */
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { dockerfileFor } from '../../../../build/dockerfile-path.js';
import { BrigError } from '../../../../errors/index.js';
import { extractArchive } from '../../../../image/layers/copy.js';
import { buildRenderer } from '../../build-progress.js';
import { keyValues } from '../../key-values.js';
import { LocalError, toStdout, writeFileFromStream } from '../../report.js';
import type { BrigContext } from '../../context.js';
import { needArgs, type Verb } from '../../verb.js';

/** `--secret id=ID,src=FILE` (docker's form; `source=` too). */
function parseSecret(spec: string, cwd: string): [string, string] {
  const kv = keyValues(spec.split(','), 'secret');
  const id = kv.id;
  const src = kv.src ?? kv.source;
  if (!id || !src) throw new BrigError('INVALID_ARGUMENT', `invalid secret "${spec}": id=ID,src=FILE`, { field: '--secret' });
  return [id, path.resolve(cwd, src)];
}

/** `-o type=oci|docker|local,dest=PATH` (or a bare PATH: type=local). */
function parseOutput(spec: string): { type: 'oci' | 'docker' | 'local'; dest: string } {
  if (!spec.includes('=')) return { type: 'local', dest: spec };
  const kv = keyValues(spec.split(','), 'output');
  const type = kv.type ?? 'local';
  if (type !== 'oci' && type !== 'docker' && type !== 'local') throw new BrigError('INVALID_ARGUMENT', `unsupported output type "${type}" (oci, docker or local)`, { field: '--output' });
  if (!kv.dest) throw new BrigError('INVALID_ARGUMENT', `--output type=${type} needs dest=`, { field: '--output' });
  return { type, dest: kv.dest };
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** A tar archive (plain or compressed) rather than a Dockerfile on stdin (`brig build -`). */
function looksLikeArchive(b: Buffer): boolean {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return true;
  return b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';
}

export const build: Verb = {
  spec: {
    name: 'build',
    usage: 'build [OPTIONS] PATH | URL | -',
    summary: 'Build an image from a Dockerfile',
    aliases: ['image build', 'builder build'],
    flags: [
      { name: 'tag', short: 't', type: 'list', help: 'Name and optionally a tag (format: "name:tag")' },
      { name: 'file', short: 'f', type: 'string', help: 'Name of the Dockerfile (default: "PATH/Dockerfile")' },
      { name: 'build-arg', type: 'list', help: 'Set build-time variables' },
      { name: 'target', type: 'string', help: 'Set the target build stage to build' },
      { name: 'label', type: 'list', help: 'Set metadata for an image' },
      { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
      { name: 'network', type: 'string', help: 'Set the networking mode for the RUN instructions during build (default, none, host)' },
      { name: 'iidfile', type: 'string', help: 'Write the image ID to the file' },
      { name: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
      { name: 'pull', type: 'bool', help: 'Always attempt to pull a newer version of the image' },
      { name: 'progress', type: 'string', help: 'Set type of progress output (auto, plain, tty, quiet)', default: 'auto' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the build output and print image ID on success' },
      { name: 'secret', type: 'list', help: 'Secret to expose to the build (format: "id=mysecret,src=/local/secret")' },
      { name: 'output', short: 'o', type: 'list', help: 'Output destination (format: "type=local,dest=path"; oci, docker, local)' },
    ],
  },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    if (p.args.length > 1) throw new BrigError('INVALID_ARGUMENT', '"brig build" requires exactly 1 argument.', { hint: "See 'brig build --help'." });
    const v = p.values;
    const progress = v.quiet === true ? 'quiet' : (v.progress as string);
    const live = buildRenderer(ctx, progress);
    const buildArgs: Record<string, string> = {};
    for (const a of (v['build-arg'] as string[] | undefined) ?? []) {
      const i = a.indexOf('=');
      // docker: a bare NAME takes the value from the client's environment, if set.
      if (i < 0) {
        if (ctx.env[a] !== undefined) buildArgs[a] = ctx.env[a]!;
      } else buildArgs[a.slice(0, i)] = a.slice(i + 1);
    }
    const labels = keyValues((v.label as string[] | undefined) ?? [], 'label');
    const secrets = Object.fromEntries(((v.secret as string[] | undefined) ?? []).map((s) => parseSecret(s, ctx.cwd)));
    const outputs = ((v.output as string[] | undefined) ?? []).map(parseOutput);
    const source = p.args[0]!;
    const file = v.file as string | undefined;
    let context: { dir: string } | { tar: AsyncIterable<Uint8Array> };
    let dockerfile: string | undefined;
    let dockerfileText: string | undefined;
    let ignoreText: string | undefined;
    if (file === '-' && source === '-') throw new LocalError('ERROR: invalid argument: can\'t use stdin for both build context and dockerfile');
    if (source === '-') {
      const input = await readAll(ctx.stdin as AsyncIterable<Buffer>);
      if (looksLikeArchive(input)) context = { tar: (async function* () { yield input; })() };
      else {
        // A Dockerfile on stdin, and no context.
        dockerfileText = input.toString('utf8');
        context = { tar: (async function* () { yield Buffer.alloc(1024); })() };
      }
    } else if (/^https?:\/\//.test(source)) {
      const res = await fetch(source);
      if (!res.ok || !res.body) throw new LocalError(`ERROR: failed to read context from ${source}: status ${res.status}`);
      context = { tar: res.body as unknown as AsyncIterable<Uint8Array> };
    } else {
      const dir = path.resolve(ctx.cwd, source);
      if (!existsSync(dir)) throw new LocalError(`ERROR: unable to prepare context: path "${source}" not found`);
      context = { dir };
    }
    if (file === '-') dockerfileText = (await readAll(ctx.stdin as AsyncIterable<Buffer>)).toString('utf8');
    else if (file !== undefined && 'dir' in context) {
      // -f is relative to the working directory; inside the context it is named from there,
      // else the client reads it (and NAME.dockerignore beside it).
      const found = dockerfileFor(context.dir, path.resolve(ctx.cwd, file));
      if (found === undefined) throw new LocalError(`ERROR: failed to read dockerfile: open ${file}: no such file or directory`);
      if ('name' in found) dockerfile = found.name;
      else ({ text: dockerfileText, ignoreText } = found);
    } else if (file !== undefined) dockerfile = file;
    const abort = new AbortController();
    const onSignal = () => abort.abort(new BrigError('BUILD_STEP_FAILED', 'the build was cancelled'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const onProgress = live.onProgress;
    try {
      const r = await ctx.engine().buildImage(context, {
        ...(dockerfile !== undefined ? { dockerfile } : {}),
        ...(dockerfileText !== undefined ? { dockerfileText } : {}),
        ...(ignoreText !== undefined ? { ignoreText } : {}),
        tags: (v.tag as string[] | undefined) ?? [],
        ...(v.target !== undefined ? { target: v.target as string } : {}),
        buildArgs,
        labels,
        noCache: v['no-cache'] === true,
        pull: v.pull === true,
        ...(v.network !== undefined ? { network: v.network as string } : {}),
        ...(v.platform !== undefined ? { platform: v.platform as string } : {}),
        secrets,
        exports: outputs.map((o) => o.type),
        ...(onProgress ? { onProgress } : {}),
        signal: abort.signal,
      });
      live.end();
      for (const o of outputs) await writeOutput(ctx, r.id, o);
      if (v.iidfile !== undefined) await fs.writeFile(path.resolve(ctx.cwd, v.iidfile as string), r.id, { mode: 0o644 });
      if (progress === 'quiet') ctx.stdout.write(`${r.id}\n`);
      return 0;
    } catch (e) {
      live.end();
      if (e instanceof LocalError) ctx.stderr.write(`${e.message}\n`);
      else ctx.stderr.write(`ERROR: failed to solve: ${(e as Error).message}\n`);
      return abort.signal.aborted ? 130 : 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

/** -o: the image as an OCI or docker archive (a file, or `-` for stdout), or its filesystem in a directory. */
async function writeOutput(ctx: BrigContext, id: string, o: { type: 'oci' | 'docker' | 'local'; dest: string }): Promise<void> {
  const engine = ctx.engine();
  if (o.type !== 'local') {
    const format = o.type === 'oci' ? 'oci-archive' : 'docker-archive';
    if (o.dest === '-') return engine.saveImages([id], (tar) => toStdout(ctx, tar), { format });
    return writeFileFromStream(path.resolve(ctx.cwd, o.dest), (write) => engine.saveImages([id], async (tar) => {
      for await (const c of tar) await write(c);
    }, { format }), 0o644);
  }
  // The filesystem: through a created (never started) container's export.
  const dest = path.resolve(ctx.cwd, o.dest);
  await fs.mkdir(dest, { recursive: true });
  const c = await engine.createContainer({ Image: id, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
  try {
    await engine.exportContainer(c.Id, (tar) => extractArchive(tar, dest, '', { owner: 'none' }));
  } finally {
    await engine.removeContainer(c.Id, { force: true });
  }
}
