import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BrigError, hasErrno } from '../../../errors/index.js';
import { defaultSpec } from '../../../runtime/spec/default-spec.js';
import type { Command } from '../command.js';

export const spec: Command = {
  name: 'spec',
  usage: 'spec [--bundle DIR]',
  summary: 'write a default config.json',
  flags: {
    bundle: { kind: 'string', short: 'b', help: 'directory to write config.json into' },
    rootless: { kind: 'bool', help: 'not supported yet' },
  },
  async run(ctx, { flags }) {
    if (flags.rootless)
      throw new BrigError('UNSUPPORTED_FIELD', '--rootless is not supported by this build yet', {
        field: '--rootless',
      });
    const file = path.join(path.resolve(ctx.cwd, (flags.bundle as string | undefined) ?? '.'), 'config.json');
    try {
      writeFileSync(file, `${JSON.stringify(defaultSpec(), null, '\t')}\n`, { flag: 'wx' });
    } catch (e) {
      if (hasErrno(e, 'EEXIST'))
        throw new BrigError('INVALID_ARGUMENT', `${file} already exists`, {
          path: file,
          hint: 'remove it first',
        });
      throw e;
    }
    return 0;
  },
};
