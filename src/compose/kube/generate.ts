/**
 * `kube generate`: a Pod manifest of containers as they are, as `podman kube generate`
 * writes one: what differs from the image (command, args, env, workingDir), the ports
 * published (from the pod's infra container when it has one), limits and reservations back
 * into Kubernetes quantities, capabilities, user, read-only root, mounts as hostPath,
 * persistentVolumeClaim or emptyDir volumes, the restart policy and an exec liveness probe.
 * Pure: inspect data in, a plain object out (the CLI prints it as YAML).
 */
import type { ContainerJSON } from '../../engine/engine.js';
import type { ContainerConfig } from '../../image/manifest.js';
import type { Dict } from './manifest.js';
import { KUBE_LABEL } from './pod.js';

export interface GenerateMember {
  inspect: ContainerJSON;
  /** The image's config (for what the container only inherits). */
  image: ContainerConfig;
}

interface DockerMount {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  RW: boolean;
}

/** A DNS label of any name: lower case, `-` for the rest. */
export function dnsLabel(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'container'
  );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function milli(n: number): string {
  const m = Math.round(n * 1000);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

function memory(b: number): string | number {
  for (const [s, f] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (b % f === 0) return `${b / f}${s}`;
  return b;
}

function ports(inspect: ContainerJSON): Dict[] {
  const out: Dict[] = [];
  for (const [key, binds] of Object.entries(inspect.HostConfig.PortBindings ?? {})) {
    const [port, proto] = key.split('/');
    for (const b of binds ?? [{ HostIp: '', HostPort: '' }]) {
      out.push({
        containerPort: Number(port),
        ...(b.HostPort ? { hostPort: Number(b.HostPort) } : {}),
        ...(b.HostIp && b.HostIp !== '0.0.0.0' ? { hostIP: b.HostIp } : {}),
        ...(proto === 'udp' ? { protocol: 'UDP' } : {}),
      });
    }
  }
  return out;
}

function restartPolicy(inspect: ContainerJSON): string {
  const n = inspect.HostConfig.RestartPolicy?.Name ?? 'no';
  return n === 'always' || n === 'unless-stopped' ? 'Always' : n === 'on-failure' ? 'OnFailure' : 'Never';
}

/** One Pod of `members` (their infra, if kube play made them, for the pod's ports). */
export function podManifest(pod: string, members: GenerateMember[], infra?: ContainerJSON): Dict {
  const volumes = new Map<string, Dict>();
  const first = members[0]!.inspect;
  const userLabels = Object.fromEntries(Object.entries(first.Config.Labels ?? {}).filter(([k]) => !k.startsWith('io.brig.kube.') && !Object.hasOwn(members[0]!.image.Labels ?? {}, k)));
  const containers = members.map(({ inspect, image }) => {
    const c = inspect.Config;
    const h = inspect.HostConfig;
    const name = c.Labels?.[KUBE_LABEL.container] ?? dnsLabel(inspect.Name.replace(/^\//, ''));
    const env = (c.Env ?? []).filter((e) => !(image.Env ?? []).includes(e) && !e.startsWith('HOSTNAME='));
    const entrypointChanged = !same(c.Entrypoint, image.Entrypoint);
    const limits: Dict = {};
    const requests: Dict = {};
    if (h.NanoCpus) limits.cpu = milli(h.NanoCpus / 1e9);
    else if (h.CpuQuota && h.CpuPeriod) limits.cpu = milli(h.CpuQuota / h.CpuPeriod);
    if (h.Memory) limits.memory = memory(h.Memory);
    if (h.CpuShares) requests.cpu = milli(h.CpuShares / 1024);
    if (h.MemoryReservation) requests.memory = memory(h.MemoryReservation);
    const mounts = ((inspect.Mounts ?? []) as DockerMount[]).map((m) => {
      const vname = dnsLabel(m.Type === 'volume' ? (m.Name ?? m.Destination) : m.Destination);
      volumes.set(vname, m.Type === 'bind' ? { name: vname, hostPath: { path: m.Source } } : m.Type === 'tmpfs' ? { name: vname, emptyDir: { medium: 'Memory' } } : { name: vname, persistentVolumeClaim: { claimName: m.Name } });
      return { name: vname, mountPath: m.Destination, ...(m.RW ? {} : { readOnly: true }) };
    });
    const [uid, gid] = (c.User ?? '').split(':');
    const sc: Dict = {
      ...(uid && /^\d+$/.test(uid) ? { runAsUser: Number(uid) } : {}),
      ...(gid && /^\d+$/.test(gid) ? { runAsGroup: Number(gid) } : {}),
      ...(h.CapAdd?.length || h.CapDrop?.length ? { capabilities: { ...(h.CapAdd?.length ? { add: h.CapAdd } : {}), ...(h.CapDrop?.length ? { drop: h.CapDrop } : {}) } } : {}),
      ...(h.Privileged ? { privileged: true } : {}),
      ...(h.ReadonlyRootfs ? { readOnlyRootFilesystem: true } : {}),
    };
    const test = c.Healthcheck?.Test;
    const probe = test && test[0] !== 'NONE' && test.length > 1 ? { exec: { command: test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test[1]!] : test.slice(1) }, ...(c.Healthcheck?.Interval ? { periodSeconds: Math.round(c.Healthcheck.Interval / 1e9) } : {}), ...(c.Healthcheck?.Retries ? { failureThreshold: c.Healthcheck.Retries } : {}) } : undefined;
    const ownPorts = infra ? [] : ports(inspect);
    return {
      name,
      image: c.Image,
      ...(entrypointChanged && c.Entrypoint ? { command: c.Entrypoint } : {}),
      ...(entrypointChanged || !same(c.Cmd, image.Cmd) ? (c.Cmd?.length ? { args: c.Cmd } : {}) : {}),
      ...(c.WorkingDir && c.WorkingDir !== (image.WorkingDir ?? '') ? { workingDir: c.WorkingDir } : {}),
      ...(env.length ? { env: env.map((e) => ({ name: e.slice(0, e.indexOf('=')), value: e.slice(e.indexOf('=') + 1) })) } : {}),
      ...(ownPorts.length ? { ports: ownPorts } : {}),
      ...(Object.keys(limits).length || Object.keys(requests).length ? { resources: { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) } } : {}),
      ...(mounts.length ? { volumeMounts: mounts } : {}),
      ...(Object.keys(sc).length ? { securityContext: sc } : {}),
      ...(probe ? { livenessProbe: probe } : {}),
      ...(c.Tty ? { tty: true } : {}),
      ...(c.OpenStdin ? { stdin: true } : {}),
    };
  });
  // The pod's ports are its infra's; podman puts them on the first container.
  if (infra) {
    const p = ports(infra);
    if (p.length) (containers[0] as Dict).ports = p;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod, labels: { app: pod, ...userLabels } },
    spec: {
      ...(first.Config.Hostname && first.Config.Hostname !== first.Id.slice(0, 12) ? { hostname: first.Config.Hostname } : {}),
      restartPolicy: restartPolicy(first),
      containers,
      ...(volumes.size ? { volumes: [...volumes.values()] } : {}),
    },
  };
}
