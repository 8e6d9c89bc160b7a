/** brig port: a container's published ports ("80/tcp -> 0.0.0.0:8080"), or one port's host addresses. */
import { BrigError } from '../../../../errors/index.js';
import { needArgs, type Verb } from '../../verb.js';

export const port: Verb = {
  spec: { name: 'port', usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]', summary: 'List port mappings or a specific mapping for the container', aliases: ['container port'], flags: [] },
  async run(ctx, p) {
    needArgs(p, this.spec, 1);
    const c = await ctx.engine().inspectContainer(p.args[0]!);
    const ports = (c.NetworkSettings.Ports ?? {}) as Record<string, { HostIp: string; HostPort: string }[] | null>;
    const want = p.args[1];
    if (want !== undefined) {
      const key = want.includes('/') ? want : `${want}/tcp`;
      const list = ports[key];
      if (!list?.length) throw new BrigError('INVALID_ARGUMENT', `No public port '${key}' published for ${p.args[0]}`);
      ctx.stdout.write(list.map((b) => `${b.HostIp}:${b.HostPort}\n`).join(''));
      return 0;
    }
    for (const [k, list] of Object.entries(ports)) for (const b of list ?? []) ctx.stdout.write(`${k} -> ${b.HostIp}:${b.HostPort}\n`);
    return 0;
  },
};
