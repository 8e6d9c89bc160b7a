/**
 * The fields docker's --format offers for `ps` and `images` (formatter.ContainerContext and
 * formatter.imageContext), computed from the Engine's ContainerSummary and ImageSummary. They
 * are Go structs in docker, so an unknown field is an error there and here (goStruct); the
 * header names are docker's.
 */
import { humanDuration } from '../../util/human-duration.js';
import type { ContainerSummary } from '../../engine/containers/inspect.js';
import type { HistoryItem, ImageSummary } from '../../image/service.js';
import { ago, humanSize, shortId } from '../brig/render.js';
import { goQuote, goStruct, parseTemplate } from './template.js';

/** Go's time.Time.String() for a whole second, in the local zone. */
export function goTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const p = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const zone = off === 0 ? 'UTC' : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '');
  const offset = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${offset} ${zone}`;
}

/** docker's Ellipsis: cut to n characters, the last one "…". */
function ellipsis(s: string, n: number): string {
  const chars = [...s];
  return chars.length > n ? `${chars.slice(0, n - 1).join('')}…` : s;
}

export const PS_DEFAULT = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const PS_HEADER = goStruct('formatter.ContainerContext', {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Label: () => 'LABEL',
  LocalVolumes: 'LOCAL VOLUMES',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
});

/** What ps shows of a mount: docker's MountPoint fields it reads. */
interface MountShown {
  Name?: string;
  Source?: string;
  Driver?: string;
}

/** docker's SIZE: "2B (virtual 21.5MB)", or the container's own bytes alone without a virtual size. */
function psSize(c: ContainerSummary): string {
  const rw = humanSize(c.SizeRw ?? 0);
  return (c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSize(c.SizeRootFs!)})` : rw;
}

/** docker's PORTS: "127.0.0.1:8080->80/tcp, 443/tcp". */
function psPorts(ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]): string {
  return ports.map((p) => (p.PublicPort ? `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

export function psContext(c: ContainerSummary, opts: { trunc: boolean; now?: number }) {
  const labels = Object.keys(c.Labels).sort();
  const mounts = c.Mounts as MountShown[];
  // Keys in sorted order: {{json .}} prints them so, as docker's map does.
  return goStruct('formatter.ContainerContext', {
    Command: goQuote(opts.trunc ? ellipsis(c.Command, 20) : c.Command),
    CreatedAt: goTime(c.Created),
    ID: opts.trunc ? c.Id.slice(0, 12) : c.Id,
    Image: c.Image,
    Labels: labels.map((k) => `${k}=${c.Labels[k]}`).join(','),
    LocalVolumes: String(mounts.filter((m) => m.Driver === 'local').length),
    Mounts: mounts.map((m) => (m.Name ? m.Name : (m.Source ?? ''))).map((n) => (opts.trunc ? ellipsis(n, 15) : n)).join(','),
    Names: c.Names.map((n) => n.replace(/^\//, '')).join(','),
    Networks: Object.keys(c.NetworkSettings.Networks ?? {}).join(','),
    Ports: psPorts(c.Ports as { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]),
    RunningFor: `${humanDuration((opts.now ?? Date.now()) - c.Created * 1000)} ago`,
    Size: psSize(c),
    State: c.State,
    Status: c.Status,
    Label: (name: unknown) => c.Labels[String(name)] ?? '',
  });
}

/**
 * Whether a ps template reads .Size (docker runs it once on an empty row and watches, then
 * asks for sizes, which cost a walk of every container's files). A template that fails on
 * the empty row says no; it fails again, with its error, on the real rows.
 */
export function psTemplateUsesSize(source: string): boolean {
  let used = false;
  const probe = psContext({ Id: '', Names: [], Image: '', ImageID: '', Command: '', Created: 0, State: '', Status: '', Ports: [], Labels: {}, HostConfig: { NetworkMode: '' }, NetworkSettings: { Networks: {} }, Mounts: [] }, { trunc: true });
  Object.defineProperty(probe, 'Size', {
    enumerable: true,
    get: () => {
      used = true;
      return '';
    },
  });
  try {
    parseTemplate(source).execute(probe);
  } catch {}
  return used;
}

export const IMAGES_DEFAULT = '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

export const IMAGES_HEADER = goStruct('formatter.imageContext', {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
});

/** docker's default `images` table with --digests. */
export const IMAGES_DIGESTS_DEFAULT = '{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

/** "busybox:1" → ["busybox", "1"]; "host:5000/a@sha256:..." → ["host:5000/a", "sha256:..."]. */
function splitName(name: string, sep: ':' | '@'): [string, string] {
  const at = sep === '@' ? name.indexOf('@') : name.lastIndexOf(':');
  return at < 0 || (sep === ':' && name.lastIndexOf('/') > at) ? [name, ''] : [name.slice(0, at), name.slice(at + 1)];
}

/**
 * The rows docker lists for an image (formatter.imageFormatTaggedAndDigest): one per tag,
 * and when digests are wanted (--digests, or {{.Digest}} in the format) one per tag and
 * digest of its repository; a repository with only digests gets a `<none>` tag row (one per
 * digest with --digests); an image with no name at all one `<none>` row.
 */
export function imageContexts(i: ImageSummary, opts: { trunc: boolean; now?: number; digests?: boolean; needDigest?: boolean }) {
  const row = (repo: string, tag: string, digest: string) =>
    goStruct('formatter.imageContext', {
      Containers: i.Containers < 0 ? 'N/A' : String(i.Containers),
      CreatedAt: goTime(i.Created),
      CreatedSince: ago(i.Created, opts.now),
      Digest: digest,
      ID: opts.trunc ? shortId(i.Id) : i.Id,
      Repository: repo,
      SharedSize: i.SharedSize < 0 ? 'N/A' : humanSize(i.SharedSize),
      Size: humanSize(i.Size),
      Tag: tag,
      UniqueSize: i.SharedSize < 0 ? 'N/A' : humanSize(i.Size - i.SharedSize),
      VirtualSize: humanSize(i.Size),
    });
  if (i.RepoTags.length === 0 && i.RepoDigests.length === 0) return [row('<none>', '<none>', '<none>')];
  const needDigest = opts.digests === true || opts.needDigest !== false;
  const tags = new Map<string, string[]>();
  const digests = new Map<string, string[]>();
  for (const t of i.RepoTags) {
    const [repo, tag] = splitName(t, ':');
    tags.set(repo, [...(tags.get(repo) ?? []), tag]);
  }
  for (const d of i.RepoDigests) {
    const [repo, digest] = splitName(d, '@');
    digests.set(repo, [...(digests.get(repo) ?? []), digest]);
  }
  const rows = [];
  for (const [repo, ts] of tags) {
    const ds = needDigest ? (digests.get(repo) ?? []) : [];
    digests.delete(repo);
    for (const tag of ts) {
      if (ds.length === 0) rows.push(row(repo, tag, '<none>'));
      for (const d of ds) rows.push(row(repo, tag, d));
    }
  }
  for (const [repo, ds] of digests) {
    if (opts.digests === true) for (const d of ds) rows.push(row(repo, '<none>', d));
    else rows.push(row(repo, '<none>', ''));
  }
  return rows;
}

export const HISTORY_DEFAULT = '{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export const HISTORY_HEADER = goStruct('formatter.historyContext', {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
});

export function historyContext(h: HistoryItem, opts: { trunc: boolean; now?: number }) {
  const createdBy = h.CreatedBy.replace(/\t/g, ' ');
  return goStruct('formatter.historyContext', {
    Comment: h.Comment,
    CreatedAt: goTime(h.Created),
    CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
    CreatedSince: ago(h.Created, opts.now),
    ID: h.Id.startsWith('sha256:') && opts.trunc ? shortId(h.Id) : h.Id,
    Size: humanSize(h.Size),
  });
}
