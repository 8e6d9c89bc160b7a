/** brig system metrics: every container's numbers in the Prometheus text format (engine/stats/metrics.ts). */
import { collectMetrics } from '../../../../engine/stats/metrics.js';
import { renderPrometheus } from '../../../../engine/stats/prometheus.js';
import type { CommandSpec } from '../../../flags.js';
import { report } from '../../report.js';
import { noArgs, type Verb } from '../../verb.js';

const METRICS: CommandSpec = {
  name: 'system metrics',
  usage: 'system metrics',
  summary: 'Print per-container metrics in the Prometheus text format',
  flags: [],
};

export const metrics: Verb = {
  spec: METRICS,
  async run(ctx, p) {
    noArgs(p, METRICS);
    return report(ctx, async () => {
      ctx.stdout.write(renderPrometheus(await collectMetrics(ctx.engine())));
    });
  },
};
