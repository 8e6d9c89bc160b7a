/**
 * brig system prune: docker's (cli/command/system/prune.go), which is the CLI's, not an API
 * call: stopped containers, then networks no container uses, then (--volumes) anonymous
 * volumes no container uses, then dangling images (-a: every image no container uses), each
 * with the same --filter; each kind's list as its own prune prints it, a blank line after,
 * then the space the containers, volumes and images freed together. brig has no build cache,
 * so its line is not in the warning.
 */
import type { CommandSpec } from '../../../flags.js';
import { filterFlag } from '../../filter-flag.js';
import { deletedLines } from '../image/prune.js';
import { confirm } from '../../prompt.js';
import { humanSize } from '../../render.js';
import { LocalError, report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';

const PRUNE: CommandSpec = {
  name: 'system prune',
  usage: 'system prune [OPTIONS]',
  summary: 'Remove unused data',
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images not just dangling ones' },
    { name: 'filter', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "label=<key>=<value>")' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    { name: 'volumes', type: 'bool', help: 'Prune anonymous volumes' },
  ],
};

/** docker's confirmationTemplate, filled in. */
export function pruneWarning(opts: { all: boolean; volumes: boolean; filters: Record<string, string[]> }): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (opts.volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(opts.all ? 'all images without at least one container associated to them' : 'all dangling images');
  // docker shows these three only, naturally sorted.
  const shown = ['label', 'label!', 'until'].flatMap((k) => (opts.filters[k] ?? []).map((v) => `${k}=${v}`)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const filters = shown.length ? `\n  Items to be pruned will be filtered with:${shown.map((f) => `\n  - ${f}`).join('')}\n` : '';
  return `WARNING! This will remove:${warnings.map((w) => `\n  - ${w}`).join('')}\n${filters}\nAre you sure you want to continue?`;
}

export const prune: Verb = {
  spec: PRUNE,
  async run(ctx, p) {
    noArgs(p, PRUNE);
    const filters = filterFlag(p, PRUNE) as Record<string, string[]>;
    const all = p.values.all === true;
    const volumes = p.values.volumes === true;
    if (volumes && filters.until) return report(ctx, () => Promise.reject(new LocalError('ERROR: The "until" filter is not supported with "--volumes"')));
    // docker 25+: a "no" cancels quietly, status 0, nothing removed.
    if (p.values.force !== true && !(await confirm(ctx, pruneWarning({ all, volumes, filters })))) return 0;
    return report(ctx, async () => {
      const engine = ctx.engine();
      let space = 0;
      const section = (title: string, lines: string[]) => {
        if (lines.length) ctx.stdout.write(`Deleted ${title}:\n${lines.map((l) => `${l}\n`).join('')}\n`);
      };
      const c = await engine.pruneContainers({ filters });
      section('Containers', c.ContainersDeleted);
      space += c.SpaceReclaimed;
      section('Networks', (await engine.pruneNetworks({ filters })).NetworksDeleted);
      if (volumes) {
        const v = await engine.pruneVolumes({ filters });
        section('Volumes', v.VolumesDeleted);
        space += v.SpaceReclaimed;
      }
      const i = await engine.pruneImages({ filters: { ...filters, dangling: [String(!all)] } });
      section('Images', deletedLines(i.ImagesDeleted));
      space += i.SpaceReclaimed;
      ctx.stdout.write(`Total reclaimed space: ${humanSize(space, 4)}\n`);
    });
  },
};
