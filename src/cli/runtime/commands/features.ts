import { readFileSync } from 'node:fs';
import { featuresDocument } from '../../../runtime/features.js';
import { detectCgroupLayout, parseMountPoints } from '../../../runtime/host-facts.js';
import type { Command } from '../command.js';

export const features: Command = {
  name: 'features',
  usage: 'features',
  summary: 'print what this runtime and host support (OCI features JSON)',
  flags: {},
  async run(ctx) {
    const doc = featuresDocument({
      version: ctx.version,
      capLastCap: Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()),
      cgroupLayout: detectCgroupLayout(parseMountPoints(readFileSync('/proc/self/mountinfo', 'utf8'))),
    });
    ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  },
};
