/**
 * Debian's docker-registry on 127.0.0.1 for image tests: a temp storage dir, a free port,
 * optional htpasswd basic auth. `stop()` kills it and removes everything.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './image-tmp.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export function registryMissing(): string | false {
  if (!existsSync(REGISTRY_BIN)) return 'docker-registry not installed (apt-get install docker-registry)';
  return false;
}

export function htpasswdMissing(): string | false {
  return existsSync('/usr/bin/htpasswd') ? false : 'htpasswd not installed (apt-get install apache2-utils)';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestRegistry {
  host: string;
  port: number;
  dir: string;
  stop: () => Promise<void>;
}

export async function startRegistry(
  opts: {
    user?: string;
    password?: string;
    token?: { realm: string; service: string; issuer: string; certPath: string };
  } = {},
): Promise<TestRegistry> {
  const { dir, cleanup } = await tempDir('brig-registry-');
  const port = await freePort();
  let auth = '';
  if (opts.token !== undefined) {
    const t = opts.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certPath}\n`;
  } else if (opts.user !== undefined) {
    const file = join(dir, 'htpasswd');
    execFileSync('htpasswd', ['-Bbc', file, opts.user, opts.password ?? '']);
    auth = `auth:\n  htpasswd:\n    realm: brig-test\n    path: ${file}\n`;
  }
  const config = join(dir, 'config.yml');
  await fs.writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await cleanup();
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (res.status === 200 || res.status === 401) return { host: `127.0.0.1:${port}`, port, dir, stop };
    } catch {}
    await sleep(50);
  }
  await stop();
  throw new Error(`docker-registry did not start: ${stderr.slice(-2000)}`);
}

/** Overlay whiteouts and opaque dirs need root and the attr tools. */
export function overlayMissing(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync('/usr/bin/setfattr') || !existsSync('/usr/bin/getfattr')) {
    return 'setfattr/getfattr not installed (apt-get install attr)';
  }
  return false;
}
