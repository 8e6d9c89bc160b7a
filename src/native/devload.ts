/**
 * The cgroup v2 device-program attacher: runs native/build/brig-devload with the compiled
 * program on stdin (bpf(2) is out of Node's reach).
 */
import { BrigError } from '../errors/index.js';
import { childProcess } from '../util/builtins.js';
import type { DeviceProgramAttacher } from '../runtime/cgroups/index.js';

export function deviceAttacher(loaderPath: string): DeviceProgramAttacher {
  return (cgroupDir, program) =>
    new Promise((resolve, reject) => {
      const child = childProcess().spawn(loaderPath, ['-', cgroupDir], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', (e) =>
        reject(new BrigError('HELPER_MISSING', `cannot run ${loaderPath}: ${e.message}`, { path: loaderPath, hint: 'run `npm run build`' })),
      );
      child.on('close', (code) => {
        if (code === 0) resolve();
        else {
          reject(
            new BrigError('CGROUP_IO', `linux.resources.devices: loading the device program into ${cgroupDir} failed: ${stderr.trim()}`, {
              field: 'linux.resources.devices',
              path: cgroupDir,
            }),
          );
        }
      });
      child.stdin.end(Buffer.from(program.insns));
    });
}
