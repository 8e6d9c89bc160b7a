/** A one-layer busybox image built in the test from the host's busybox-static. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { tarTree } from '../../src/image/layers/create.js';
import type { ImageService } from '../../src/image/service.js';

export const BUSYBOX = '/bin/busybox';

export async function makeBusyboxRootfs(dir: string): Promise<string> {
  const root = await fs.mkdtemp(join(dir, 'rootfs-'));
  await fs.mkdir(join(root, 'bin'), { recursive: true });
  await fs.mkdir(join(root, 'etc'));
  await fs.copyFile(BUSYBOX, join(root, 'bin/busybox'));
  await fs.chmod(join(root, 'bin/busybox'), 0o755);
  for (const l of ['sh', 'ls', 'echo', 'cat', 'id']) await fs.symlink('busybox', join(root, 'bin', l));
  await fs.writeFile(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n',
  );
  await fs.writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app\n');
  return root;
}

/**
 * That rootfs with more applets linked, as a tar beside it (`brig import` it, with
 * `--change 'ENV PATH=/bin'`, to get the e2e tests' image). Returns the tar's path.
 */
export async function busyboxTar(dir: string, applets: string[]): Promise<string> {
  const rootfs = await makeBusyboxRootfs(dir);
  for (const a of applets) await fs.rm(join(rootfs, 'bin', a), { force: true }).then(() => fs.symlink('busybox', join(rootfs, 'bin', a)));
  const tar = `${rootfs}.tar`;
  const r = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  if (r.status !== 0) throw new Error(`tar of ${rootfs} failed: ${r.stderr.toString()}`);
  return tar;
}

export async function importBusybox(svc: ImageService, dir: string, reference: string) {
  const root = await makeBusyboxRootfs(dir);
  return svc.import(tarTree(root), {
    reference,
    changes: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
  });
}
