/**
 * The kube verbs over src/compose/kube: the manifest read (a file, or stdin for `-`),
 * mapped, and played or taken down on the Engine; generate prints YAML of containers.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { displayName, type Reporter } from '../../../../compose/orchestrate.js';
import { type GenerateMember, podManifest } from '../../../../compose/kube/generate.js';
import { type KubeFile, parseManifests, STDIN } from '../../../../compose/kube/manifest.js';
import { down, planPlay, play } from '../../../../compose/kube/play.js';
import { KUBE_LABEL } from '../../../../compose/kube/pod.js';
import { BrigError, hasErrno } from '../../../../errors/index.js';
import { readTextSync } from '../../../../util/read-text.js';
import type { ParsedCommand } from '../../../flags.js';
import type { BrigContext } from '../../context.js';
import { exactArgs, needArgs } from '../../verb.js';

function reporter(ctx: BrigContext, quiet: boolean): Reporter {
  return {
    progress: (kind, name, status) => {
      if (!quiet) ctx.stderr.write(` ${kind} ${name}  ${status}\n`);
    },
    warn: (m) => void ctx.stderr.write(`WARN[0000] ${m}\n`),
  };
}

async function readManifest(ctx: BrigContext, arg: string): Promise<KubeFile> {
  if (arg === '-') {
    const chunks: Buffer[] = [];
    for await (const c of ctx.stdin as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    // stdin has no path: its errors and labels say "stdin".
    return parseManifests(Buffer.concat(chunks).toString('utf8'), STDIN);
  }
  const file = path.resolve(ctx.cwd, arg);
  let text: string;
  try {
    text = readTextSync(file);
  } catch (e) {
    if (hasErrno(e, 'ENOENT')) throw new BrigError('BUNDLE_NOT_FOUND', `${arg}: no such file`, { path: file, field: 'FILE' });
    throw e;
  }
  return parseManifests(text, file);
}

export async function kubePlay(ctx: BrigContext, p: ParsedCommand): Promise<number> {
  exactArgs(p, { name: 'kube play', usage: '', summary: '', flags: [] }, 1);
  const start = String(p.values.start ?? 'true');
  if (start !== 'true' && start !== 'false') throw new BrigError('INVALID_ARGUMENT', `invalid argument "${start}" for "--start" flag: true or false`, { field: '--start' });
  const r = reporter(ctx, p.values.quiet === true);
  const manifest = await readManifest(ctx, p.args[0]!);
  const plan = planPlay(manifest, r.warn);
  await play(ctx.engine(), plan, { replace: p.values.replace === true, noStart: start === 'false' }, r);
  for (const pod of plan.pods) ctx.stdout.write(`${pod.pod}\n`);
  return 0;
}

export async function kubeDown(ctx: BrigContext, p: ParsedCommand): Promise<number> {
  exactArgs(p, { name: 'kube down', usage: '', summary: '', flags: [] }, 1);
  const manifest = await readManifest(ctx, p.args[0]!);
  await down(ctx.engine(), manifest, { force: p.values.force === true }, reporter(ctx, p.values.quiet === true));
  return 0;
}

export async function kubeGenerate(ctx: BrigContext, p: ParsedCommand): Promise<number> {
  needArgs(p, { name: 'kube generate', usage: '', summary: '', flags: [] }, 1);
  const engine = ctx.engine();
  const docs: unknown[] = [];
  const member = async (ref: string): Promise<GenerateMember> => {
    const inspect = await engine.inspectContainer(ref);
    const image = await engine.inspectImage(inspect.Image).then((i) => i.Config ?? {}, () => ({}));
    return { inspect, image };
  };
  for (const ref of p.args) {
    // A pod kube play made: its members and its infra (for the ports).
    const pod = await engine.listContainers({ all: true, filters: { label: [`${KUBE_LABEL.pod}=${ref}`] } });
    if (pod.length) {
      const infra = pod.find((c) => c.Labels[KUBE_LABEL.infra] === 'true');
      const members = await Promise.all(pod.filter((c) => c !== infra).sort((a, b) => displayName(a).localeCompare(displayName(b))).map((c) => member(c.Id)));
      if (!members.length) throw new BrigError('CONTAINER_NOT_FOUND', `pod ${ref} has no containers but its infra`, { field: 'POD' });
      docs.push(podManifest(ref, members, infra ? await engine.inspectContainer(infra.Id) : undefined));
    } else {
      const m = await member(ref);
      docs.push(podManifest(`${m.inspect.Name.replace(/^\//, '')}-pod`, [m]));
    }
  }
  const text = docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  if (typeof p.values.filename === 'string') writeFileSync(path.resolve(ctx.cwd, p.values.filename), text);
  else ctx.stdout.write(text);
  return 0;
}
