
import { featuresDocument } from '../../../runtime/features.js';
import { detectCgroupLayout, parseMountPoints } from '../../../runtime/host-facts.js';
import type { Command } from '../command.js';
import { readTextSync } from '../../../util/read-text.js';

export const features: Command = {
  name: 'features',
  usage: 'features',
  summary: 'print what this runtime and host support (OCI features JSON)',
  flags: {},
  async run(ctx) {
    const doc = featuresDocument({
      version: ctx.version,
      capLastCap: Number(readTextSync('/proc/sys/kernel/cap_last_cap').trim()),
      cgroupLayout: detectCgroupLayout(parseMountPoints(readTextSync('/proc/self/mountinfo'))),
    });
    ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  },
};
