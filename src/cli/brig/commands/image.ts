/**
 * brig image pull|push|ls|rm|inspect|tag|save|load|import|prune|history, and the docker
 * aliases (pull, push, images, rmi, tag, save, load, import, history). Each verb parses its
 * flags, calls the Engine, and renders what it returns.
 */
import path from 'node:path';
import { BrigError } from '../../../errors/index.js';
import { parseArgs } from '../../args.js';
import type { BrigCommand, BrigContext } from '../context.js';
import { humanSize, progressRenderer, shortId } from '../render.js';
import { inspectFormatter, listFormatter } from '../../format/docker.js';
import { HISTORY_DEFAULT, HISTORY_HEADER, historyContext, IMAGES_DEFAULT, IMAGES_HEADER, imageContexts } from '../../format/contexts.js';

const progressFlags = { quiet: { kind: 'bool' as const, short: 'q' }, json: { kind: 'bool' as const } };

function one(rest: string[], verb: string, what = 'an image'): string {
  if (rest.length !== 1) throw new BrigError('INVALID_ARGUMENT', `${verb} needs exactly ${what}`);
  return rest[0]!;
}

function progressMode(flags: Record<string, unknown>): 'auto' | 'json' | 'quiet' {
  return flags.json ? 'json' : flags.quiet ? 'quiet' : 'auto';
}

const pull: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, progressFlags);
  const ref = one(rest, 'pull');
  const r = await ctx.engine().pullImage(ref, { onProgress: progressRenderer(ctx.stdout, progressMode(flags)) });
  if (!flags.json) ctx.stdout.write(flags.quiet ? `${r.reference}\n` : `Digest: ${r.manifestDigest}\nStatus: image is up to date for ${r.reference}\n${r.reference}\n`);
  return 0;
};

const push: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, progressFlags);
  const r = await ctx.engine().pushImage(one(rest, 'push'), { onProgress: progressRenderer(ctx.stdout, progressMode(flags)) });
  if (!flags.json) ctx.stdout.write(`${r.reference}: digest: ${r.digest} size: ${r.size}\n`);
  return 0;
};

const ls: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, { quiet: { kind: 'bool', short: 'q' }, format: { kind: 'string' }, all: { kind: 'bool', short: 'a' }, 'no-trunc': { kind: 'bool' } });
  const format = listFormatter(flags.format as string | undefined, IMAGES_DEFAULT);
  let images = await ctx.engine().listImages();
  if (rest[0]) images = images.filter((i) => i.RepoTags.some((t) => t === rest[0] || t.startsWith(`${rest[0]}:`)));
  const trunc = flags['no-trunc'] !== true;
  if (flags.quiet && flags.format === undefined) {
    ctx.stdout.write([...new Set(images.map((i) => (trunc ? shortId(i.Id) : i.Id)))].map((i) => `${i}\n`).join(''));
    return 0;
  }
  const now = Date.now();
  ctx.stdout.write(format.render(images.flatMap((i) => imageContexts(i, { trunc, now })), IMAGES_HEADER));
  return 0;
};

const rm: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, { force: { kind: 'bool', short: 'f' } });
  if (rest.length === 0) throw new BrigError('INVALID_ARGUMENT', 'rm needs at least one image');
  let failed = 0;
  for (const name of rest) {
    try {
      for (const item of await ctx.engine().removeImage(name, { force: flags.force === true })) {
        ctx.stdout.write('Untagged' in item ? `Untagged: ${item.Untagged}\n` : `Deleted: ${(item as { Deleted: string }).Deleted}\n`);
      }
    } catch (e) {
      failed++;
      ctx.stderr.write(`brig: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
};

const inspect: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, { format: { kind: 'string', short: 'f' } });
  if (rest.length === 0) throw new BrigError('INVALID_ARGUMENT', 'inspect needs at least one image');
  const format = inspectFormatter(flags.format as string | undefined);
  const all = [];
  for (const name of rest) all.push(await ctx.engine().inspectImage(name));
  ctx.stdout.write(format.render(all));
  return 0;
};

const tag: BrigCommand = async (ctx, argv) => {
  const { rest } = parseArgs(argv, {});
  if (rest.length !== 2) throw new BrigError('INVALID_ARGUMENT', 'tag needs SOURCE and TARGET');
  await ctx.engine().tagImage(rest[0]!, rest[1]!);
  return 0;
};

const save: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, { output: { kind: 'string', short: 'o' }, format: { kind: 'string' } });
  if (rest.length === 0) throw new BrigError('INVALID_ARGUMENT', 'save needs at least one image');
  if (!flags.output) throw new BrigError('INVALID_ARGUMENT', 'save needs --output FILE', { field: '--output' });
  const format = (flags.format as string | undefined) ?? 'docker-archive';
  if (format !== 'docker-archive' && format !== 'oci-archive') {
    throw new BrigError('INVALID_ARGUMENT', `--format must be docker-archive or oci-archive, not "${format}"`, { field: '--format' });
  }
  await ctx.engine().saveImages(rest, path.resolve(ctx.cwd, flags.output as string), format);
  return 0;
};

const load: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, { input: { kind: 'string', short: 'i' }, quiet: { kind: 'bool', short: 'q' } });
  const file = (flags.input as string | undefined) ?? rest[0];
  if (!file) throw new BrigError('INVALID_ARGUMENT', 'load needs --input FILE', { field: '--input' });
  const r = await ctx.engine().loadImages(path.resolve(ctx.cwd, file));
  for (const name of r.loaded) ctx.stdout.write(`Loaded image: ${name}\n`);
  if (r.loaded.length === 0) for (const id of r.ids) ctx.stdout.write(`Loaded image ID: ${id}\n`);
  return 0;
};

const importCmd: BrigCommand = async (ctx, argv) => {
  const { rest } = parseArgs(argv, {});
  if (rest.length < 1 || rest.length > 2) throw new BrigError('INVALID_ARGUMENT', 'import needs FILE [REPOSITORY[:TAG]]');
  const r = await ctx.engine().importImage(path.resolve(ctx.cwd, rest[0]!), rest[1]);
  ctx.stdout.write(`${r.id}\n`);
  return 0;
};

const prune: BrigCommand = async (ctx, argv) => {
  const { flags } = parseArgs(argv, { all: { kind: 'bool', short: 'a' }, force: { kind: 'bool', short: 'f' } });
  const r = await ctx.engine().pruneImages({ all: flags.all === true });
  for (const item of r.ImagesDeleted) ctx.stdout.write('Untagged' in item ? `untagged: ${item.Untagged}\n` : `deleted: ${(item as { Deleted: string }).Deleted}\n`);
  ctx.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
  return 0;
};

const history: BrigCommand = async (ctx, argv) => {
  const { flags, rest } = parseArgs(argv, { format: { kind: 'string' }, 'no-trunc': { kind: 'bool' } });
  const format = listFormatter(flags.format as string | undefined, HISTORY_DEFAULT);
  const items = await ctx.engine().imageHistory(one(rest, 'history'));
  const now = Date.now();
  ctx.stdout.write(format.render(items.map((h) => historyContext(h, { trunc: flags['no-trunc'] !== true, now })), HISTORY_HEADER));
  return 0;
};

export const IMAGE_VERBS: Record<string, BrigCommand> = {
  pull,
  push,
  ls,
  list: ls,
  rm,
  remove: rm,
  inspect,
  tag,
  save,
  load,
  import: importCmd,
  prune,
  history,
};

/** Top-level docker aliases. */
export const IMAGE_ALIASES: Record<string, BrigCommand> = {
  pull,
  push,
  images: ls,
  rmi: rm,
  tag,
  save,
  load,
  import: importCmd,
  history,
};

export const image: BrigCommand = async (ctx: BrigContext, argv) => {
  const [verb, ...rest] = argv;
  const cmd = verb ? IMAGE_VERBS[verb] : undefined;
  if (!cmd) throw new BrigError('INVALID_ARGUMENT', `unknown command "image ${verb ?? ''}"`, { hint: `one of: ${Object.keys(IMAGE_VERBS).join(', ')}` });
  return cmd(ctx, rest);
};
