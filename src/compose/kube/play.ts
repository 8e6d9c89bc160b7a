/**
 * `kube play` and `kube down` on Engine calls, with podman's semantics:
 *
 *   play   every document mapped first (pod.ts: nothing is made while a field can still be
 *          refused), images checked, then claims' volumes, and pod by pod: its own volumes
 *          (configMap and secret files written in), the infra container, the members. A pod
 *          that exists already is a conflict, or with `replace` is taken down first. A play
 *          that fails removes what it made.
 *   down   the pods of the manifest's Pods and Deployments (found by their labels, whatever
 *          the replica count is now), members before infra, and the pods' own volumes; the
 *          claims' volumes only with `force` (podman's kube down --force), and only those
 *          a play made: data the user asked to keep stays.
 */
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerSummary, Engine } from '../../engine/engine.js';
import { BrigError } from '../../errors/index.js';
import { displayName, imageId, type Reporter } from '../orchestrate.js';
import { type KubeFile, STDIN } from './manifest.js';
import { claimVolume, KUBE_LABEL, type PlayContext, type PodPlan, podNames, podPlans, resourceData } from './pod.js';

export interface Play {
  file: string;
  pods: PodPlan[];
  /** PersistentVolumeClaim documents: volumes the play makes when missing. */
  claims: string[];
}

/** The manifest mapped onto requests; every error names the file, document, line and path. */
export function planPlay(manifest: KubeFile, warn: (m: string) => void): Play {
  const file = manifest.path === STDIN ? STDIN : path.resolve(manifest.path);
  const said = new Set<string>();
  const once = (m: string) => {
    if (!said.has(m)) warn((said.add(m), m));
  };
  const ctx: PlayContext = { file, configMaps: new Map(), secrets: new Map(), claims: new Set(), warn: once };
  const seen = new Map<string, number>();
  for (const doc of manifest.documents) {
    const key = `${doc.kind}/${doc.name}`;
    if (seen.has(key)) throw doc.error('metadata.name', `${doc.kind} "${doc.name}" is also document ${seen.get(key)}`);
    seen.set(key, doc.index);
    if (doc.kind === 'ConfigMap') ctx.configMaps.set(doc.name, resourceData(doc));
    else if (doc.kind === 'Secret') ctx.secrets.set(doc.name, resourceData(doc));
    else if (doc.kind === 'PersistentVolumeClaim') ctx.claims.add(claimVolume(doc, once));
  }
  const pods: PodPlan[] = [];
  const owners = new Map<string, string>();
  for (const doc of manifest.documents) {
    if (doc.kind !== 'Pod' && doc.kind !== 'Deployment') continue;
    for (const p of podPlans(doc, ctx)) {
      if (owners.has(p.pod)) throw doc.error('metadata.name', `pod "${p.pod}" is also made by ${owners.get(p.pod)}`);
      owners.set(p.pod, `${doc.kind} "${doc.name}" (document ${doc.index})`);
      pods.push(p);
    }
  }
  return { file, pods, claims: [...ctx.claims] };
}

/** The containers of a pod made by kube play (infra included). */
async function podContainers(engine: Engine, pod: string): Promise<ContainerSummary[]> {
  return engine.listContainers({ all: true, filters: { label: [`${KUBE_LABEL.pod}=${pod}`] } });
}

async function ensureImages(engine: Engine, play: Play, r: Reporter): Promise<void> {
  const wanted = new Map<string, string>();
  for (const p of play.pods) for (const c of p.containers) if (!wanted.has(c.request.Image!) || c.pullPolicy === 'Always') wanted.set(c.request.Image!, c.pullPolicy);
  for (const [ref, policy] of wanted) {
    if (policy !== 'Always' && (await imageId(engine, ref))) continue;
    if (policy === 'Never') throw new BrigError('IMAGE_NOT_FOUND', `image ${ref} is not here and its imagePullPolicy is Never`, { field: 'imagePullPolicy' });
    r.progress('Image', ref, 'Pulling');
    await engine.pullImage(ref);
    r.progress('Image', ref, 'Pulled');
  }
}

/** A volume's files, written where the engine keeps its data (the engine is on this machine). */
async function writeFiles(mountpoint: string, files: NonNullable<PodPlan['volumes'][number]['files']>): Promise<void> {
  for (const f of files) {
    const to = path.join(mountpoint, f.path);
    await mkdir(path.dirname(to), { recursive: true });
    await writeFile(to, f.content, { mode: f.mode });
    await chmod(to, f.mode); // the umask does not narrow it
  }
}

/** What one play made, for its clean-up when it fails. */
interface Made {
  pods: string[];
  volumes: string[];
}

export interface PlayOptions {
  replace?: boolean;
  /** Create only (podman's --start=false). */
  noStart?: boolean;
}

/**
 * The pods of this play that exist already: by name, and by owner (a Deployment played with
 * another replica count before). A name in use by a container of no play is refused even
 * with `replace`: it is not the play's to remove.
 */
async function existingPods(engine: Engine, plan: Play): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const add = (cs: ContainerSummary[]) => cs.forEach((c) => found.set(c.Labels[KUBE_LABEL.pod]!, c.Labels[KUBE_LABEL.file] ?? ''));
  const owners = new Set(plan.pods.map((p) => `${p.infra.request.Labels![KUBE_LABEL.kind]}\n${p.infra.request.Labels![KUBE_LABEL.owner]}`));
  for (const o of owners) {
    const [kind, owner] = o.split('\n');
    add(await engine.listContainers({ all: true, filters: { label: [`${KUBE_LABEL.kind}=${kind}`, `${KUBE_LABEL.owner}=${owner}`] } }));
  }
  for (const p of plan.pods) {
    const mine = await podContainers(engine, p.pod);
    add(mine);
    if (mine.length) continue;
    for (const c of [p.infra, ...p.containers]) {
      if (await engine.inspectContainer(c.name).then(() => true, () => false)) {
        throw new BrigError('NAME_IN_USE', `the name of container ${c.name} of pod ${p.pod} is in use by a container kube play did not make`, { field: 'metadata.name', hint: 'remove that container, or rename the pod' });
      }
    }
  }
  return found;
}

export async function play(engine: Engine, plan: Play, opts: PlayOptions, r: Reporter): Promise<void> {
  const existing = await existingPods(engine, plan);
  if (existing.size && !opts.replace) {
    const [pod, file] = [...existing].sort()[0]!;
    throw new BrigError('POD_EXISTS', `pod ${pod} already exists (kube play of ${file || 'another manifest'})`, { field: 'metadata.name', hint: `brig kube down ${plan.file === STDIN ? '- (the same manifest on stdin)' : plan.file}, or brig kube play --replace` });
  }
  await Promise.all([...existing.keys()].map((pod) => removePod(engine, pod, r)));
  await ensureImages(engine, plan, r);
  const made: Made = { pods: [], volumes: [] };
  try {
    const claimsUsed = new Set(plan.pods.flatMap((p) => p.volumes.filter((v) => v.kind === 'pvc').map((v) => v.name)));
    for (const claim of new Set([...plan.claims, ...claimsUsed])) {
      if (await engine.inspectVolume(claim).then(() => true, () => false)) continue;
      if (!plan.claims.includes(claim)) throw new BrigError('VOLUME_NOT_FOUND', `persistentVolumeClaim ${claim}: no volume of that name and no PersistentVolumeClaim document`, { field: 'persistentVolumeClaim.claimName', hint: `brig volume create ${claim}, or add a PersistentVolumeClaim to the manifest` });
      await engine.createVolume({ Name: claim, Labels: { [KUBE_LABEL.file]: plan.file, [KUBE_LABEL.volume]: 'pvc' } });
      made.volumes.push(claim);
      r.progress('Volume', claim, 'Created');
    }
    for (const p of plan.pods) {
      made.pods.push(p.pod);
      for (const v of p.volumes.filter((x) => x.kind !== 'pvc')) {
        const vol = await engine.createVolume({ Name: v.name, Labels: { [KUBE_LABEL.file]: plan.file, [KUBE_LABEL.pod]: p.pod, [KUBE_LABEL.volume]: v.kind } });
        made.volumes.push(v.name);
        if (v.files?.length) await writeFiles(vol.Mountpoint, v.files);
      }
      for (const c of [p.infra, ...p.containers]) {
        const created = await engine.createContainer(c.request, { name: c.name });
        for (const w of created.Warnings) r.warn(w);
        r.progress('Container', c.name, 'Created');
        // The infra must run before a member can join its namespaces.
        if (!opts.noStart) {
          await engine.startContainer(created.Id);
          r.progress('Container', c.name, 'Started');
        }
      }
      r.progress('Pod', p.pod, opts.noStart ? 'Created' : 'Started');
    }
  } catch (e) {
    for (const pod of made.pods.reverse()) await removePod(engine, pod, { progress: () => undefined, warn: r.warn }).catch(() => undefined);
    for (const v of made.volumes) await engine.removeVolume(v, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** A pod's containers (members at once, then its infra) and its own volumes. */
async function removePod(engine: Engine, pod: string, r: Reporter): Promise<void> {
  const all = await podContainers(engine, pod);
  const members = all.filter((c) => c.Labels[KUBE_LABEL.infra] !== 'true');
  await Promise.all(
    members.map(async (c) => {
      if (c.State === 'running' || c.State === 'restarting') await engine.stopContainer(c.Id);
      await engine.removeContainer(c.Id, { force: true });
      r.progress('Container', displayName(c), 'Removed');
    }),
  );
  // The infra's `sleep` is pid 1 of nothing that listens for SIGTERM: it is killed.
  for (const c of all.filter((x) => x.Labels[KUBE_LABEL.infra] === 'true')) {
    await engine.removeContainer(c.Id, { force: true });
    r.progress('Container', displayName(c), 'Removed');
  }
  const vols = await engine.listVolumes({ filters: { label: [`${KUBE_LABEL.pod}=${pod}`] } });
  for (const v of vols.Volumes) {
    await engine.removeVolume(v.Name, { force: true });
    r.progress('Volume', v.Name, 'Removed');
  }
  if (all.length) r.progress('Pod', pod, 'Removed');
}

export interface DownOptions {
  /** Remove the claims' volumes the play made too (podman's --force). */
  force?: boolean;
}

/** Everything a play of this manifest made; names what it removed. */
export async function down(engine: Engine, manifest: KubeFile, opts: DownOptions, r: Reporter): Promise<void> {
  const pods = new Set<string>();
  for (const doc of manifest.documents) {
    if (doc.kind !== 'Pod' && doc.kind !== 'Deployment') continue;
    // By owner, so the pods of a Deployment scaled down in the file since go too.
    const owned = await engine.listContainers({ all: true, filters: { label: [`${KUBE_LABEL.kind}=${doc.kind}`, `${KUBE_LABEL.owner}=${doc.name}`] } });
    for (const c of owned) pods.add(c.Labels[KUBE_LABEL.pod]!);
    for (const p of podNames(doc)) pods.add(p);
  }
  await Promise.all([...pods].sort().map((p) => removePod(engine, p, r)));
  if (opts.force) {
    for (const doc of manifest.documents.filter((d) => d.kind === 'PersistentVolumeClaim')) {
      const v = await engine.inspectVolume(doc.name).catch(() => undefined);
      // Only a volume a play made (a claim that named an existing volume leaves it be).
      if (v?.Labels?.[KUBE_LABEL.volume] !== 'pvc') continue;
      await engine.removeVolume(doc.name);
      r.progress('Volume', doc.name, 'Removed');
    }
  }
}
