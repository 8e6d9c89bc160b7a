/**
 * brig kube: Kubernetes manifests (Pod, Deployment, ConfigMap, Secret,
 * PersistentVolumeClaim) played as containers, as `podman kube` does. The work lives in
 * ./run.ts, which the build bundles apart (dist/brig-kube.cjs, with the YAML parser) and
 * loads only here.
 */
import type { Verb, VerbGroup } from '../../verb.js';

const play: Verb = {
  spec: {
    name: 'kube play',
    usage: 'kube play [OPTIONS] FILE',
    summary: 'Create containers, volumes and pods from a Kubernetes YAML file (- for stdin)',
    flags: [
      { name: 'replace', type: 'bool', help: 'Delete and recreate pods that already exist' },
      { name: 'start', type: 'string', default: 'true', help: 'Start the pod after creating it' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output' },
    ],
  },
  async run(ctx, p) {
    const { kubePlay } = await import('./run.js');
    return kubePlay(ctx, p);
  },
};

const down: Verb = {
  spec: {
    name: 'kube down',
    usage: 'kube down [OPTIONS] FILE',
    summary: 'Remove the containers, pods and volumes a kube play of FILE made (- for stdin)',
    flags: [
      { name: 'force', type: 'bool', help: "Remove the PersistentVolumeClaims' volumes the play made too" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output' },
    ],
  },
  async run(ctx, p) {
    const { kubeDown } = await import('./run.js');
    return kubeDown(ctx, p);
  },
};

const generate: Verb = {
  spec: {
    name: 'kube generate',
    usage: 'kube generate [OPTIONS] CONTAINER|POD...',
    summary: 'Print a Kubernetes Pod manifest of containers, or of pods kube play made',
    flags: [
      { name: 'filename', short: 'f', type: 'string', help: 'Write the YAML to a file instead of stdout' },
    ],
  },
  async run(ctx, p) {
    const { kubeGenerate } = await import('./run.js');
    return kubeGenerate(ctx, p);
  },
};

export const kubeGroup: VerbGroup = { name: 'kube', summary: 'Play, tear down and generate Kubernetes YAML', verbs: { play, down, generate } };
