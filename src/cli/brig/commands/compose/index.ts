/**
 * brig compose: multi-container applications from compose files. The group's own options
 * (-f, -p, --project-directory, --env-file, --profile) come before the subcommand, as in
 * docker compose. The work lives in ./run.ts, which the build bundles apart
 * (dist/brig-compose.cjs, with the YAML parser) and loads only here.
 */
import type { Verb } from '../../verb.js';

export const compose: Verb = {
  spec: {
    name: 'compose',
    usage: 'compose [OPTIONS] COMMAND',
    summary: 'Define and run multi-container applications',
    // The group's options end at the subcommand; the rest is the subcommand's.
    interspersed: false,
    flags: [
      { name: 'file', short: 'f', type: 'list', help: 'Compose configuration files' },
      { name: 'project-name', short: 'p', type: 'string', help: 'Project name' },
      { name: 'project-directory', type: 'string', help: 'Specify an alternate working directory (default: the path of the first specified Compose file)' },
      { name: 'env-file', type: 'list', help: 'Specify an alternate environment file' },
      { name: 'profile', type: 'list', help: 'Specify a profile to enable' },
    ],
  },
  async run(ctx, p) {
    const { runCompose } = await import('./run.js');
    return runCompose(ctx, p);
  },
};
