/** brig export: a container's whole filesystem as a tar, to a file (-o) or stdout. */
import path from 'node:path';
import type { CommandSpec } from '../../../flags.js';
import { exactArgs, type Verb } from '../../verb.js';
import { LocalError, report, toStdout, writeFileFromStream } from '../../report.js';

const EXPORT: CommandSpec = {
  name: 'export',
  usage: 'export [OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  flags: [{ name: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' }],
};

export const exportVerb: Verb = {
  spec: EXPORT,
  async run(ctx, p) {
  exactArgs(p, EXPORT, 1);
  const out = p.values.output as string | undefined;
  return report(ctx, async () => {
    if (out === undefined && ctx.stdout.isTTY) throw new LocalError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (out === undefined) return ctx.engine().exportContainer(p.args[0]!, (tar) => toStdout(ctx, tar));
    // As docker: into a temporary file beside the target, renamed over it once complete.
    const file = path.resolve(ctx.cwd, out);
    await writeFileFromStream(file, (write) => ctx.engine().exportContainer(p.args[0]!, async (tar) => {
      for await (const chunk of tar) await write(chunk);
    }), 0o644);
  });
  },
};
