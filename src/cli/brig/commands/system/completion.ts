/** brig completion bash|zsh|fish: the shell completion script, from the command table. */
import { BrigError } from '../../../../errors/index.js';
import { bashCompletion, fishCompletion, zshCompletion } from '../../completion.js';
import { exactArgs, type Verb } from '../../verb.js';

export const completion: Verb = {
  spec: {
    name: 'completion',
    usage: 'completion bash|zsh|fish',
    summary: 'Generate the autocompletion script for the specified shell\n\n  bash: source <(brig completion bash)\n  zsh:  brig completion zsh > "${fpath[1]}/_brig"\n  fish: brig completion fish > ~/.config/fish/completions/brig.fish',
    flags: [],
  },
  async run(ctx, p) {
    exactArgs(p, this.spec, 1);
    // The table holds this verb too: read it when run, not when loaded.
    const { COMMANDS } = await import('../index.js');
    const shell = p.args[0];
    const make = shell === 'bash' ? bashCompletion : shell === 'zsh' ? zshCompletion : shell === 'fish' ? fishCompletion : undefined;
    if (!make) throw new BrigError('INVALID_ARGUMENT', `unsupported shell type "${shell}"`, { hint: 'bash, zsh or fish' });
    ctx.stdout.write(make(COMMANDS));
    return 0;
  },
};
