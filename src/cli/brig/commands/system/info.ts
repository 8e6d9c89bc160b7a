/** brig info: docker info's layout, plus what each part of the engine is here and why. */
import { parseTemplate } from '../../../format/template.js';
import { noArgs, type Verb } from '../../verb.js';
import type { EngineInfo } from '../../../../engine/engine.js';

/** docker's units.BytesSize: binary units, two decimals ("23.47GiB"). */
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Math.round(v * 100) / 100}${units[u]}`;
}

export function renderInfo(i: EngineInfo): string {
  const l: string[] = ['Server:'];
  const add = (depth: number, text: string) => l.push(`${' '.repeat(depth)}${text}`);
  add(1, `Containers: ${i.Containers}`);
  add(2, `Running: ${i.ContainersRunning}`);
  add(2, `Paused: ${i.ContainersPaused}`);
  add(2, `Stopped: ${i.ContainersStopped}`);
  add(1, `Images: ${i.Images}`);
  add(1, `Server Version: ${i.ServerVersion}`);
  add(1, `Storage Driver: ${i.Driver}`);
  for (const [k, v] of i.DriverStatus) add(2, `${k}: ${v}`);
  add(1, `Logging Driver: ${i.LoggingDriver}`);
  add(1, `Cgroup Driver: ${i.CgroupDriver}`);
  add(1, `Cgroup Version: ${i.CgroupVersion}`);
  add(1, `Runtimes: ${Object.keys(i.Runtimes).join(' ')}`);
  add(1, `Default Runtime: ${i.DefaultRuntime}`);
  add(1, `Init Binary: ${i.InitBinary}`);
  add(1, 'Security Options:');
  for (const o of i.SecurityOptions) {
    const kv = Object.fromEntries(o.split(',').map((p) => p.split('=') as [string, string]));
    add(2, kv.name ?? o);
    for (const [k, v] of Object.entries(kv)) if (k !== 'name') add(3, `${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
  }
  add(1, `Kernel Version: ${i.KernelVersion}`);
  add(1, `Operating System: ${i.OperatingSystem}`);
  add(1, `OSType: ${i.OSType}`);
  add(1, `Architecture: ${i.Architecture}`);
  add(1, `CPUs: ${i.NCPU}`);
  add(1, `Total Memory: ${bytesSize(i.MemTotal)}`);
  add(1, `Name: ${i.Name}`);
  add(1, `ID: ${i.ID}`);
  add(1, `Docker Root Dir: ${i.DockerRootDir}`);
  add(1, 'Choices (brig):');
  for (const c of i.Choices) add(2, `${c.part}: ${c.choice}\n    because ${c.why}`);
  add(1, 'Image Limits (brig):');
  for (const x of i.ImageLimits) add(2, `${x.name}: ${x.value} (${x.env})`);
  return `${l.join('\n')}\n`;
}

export const info: Verb = {
  spec: {
    name: 'info',
    usage: 'info [OPTIONS]',
    summary: 'Display system-wide information',
    aliases: ['system info'],
    flags: [{ name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const given = p.values.format as string | undefined;
    // docker info --format: "json", or a template over the info object.
    const format = given === undefined || given === 'json' ? undefined : parseTemplate(given);
    const i = await ctx.engine().info();
    if (given !== undefined) {
      ctx.stdout.write(`${format ? format.execute(i) : JSON.stringify(i)}\n`);
      return 0;
    }
    ctx.stdout.write(renderInfo(i));
    // docker prints its warnings on stderr after the report.
    for (const w of i.Warnings) ctx.stderr.write(`${w}\n`);
    return 0;
  },
};
