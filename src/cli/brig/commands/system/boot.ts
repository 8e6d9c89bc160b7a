/**
 * brig system boot: what dockerd does for its containers when it starts, for hosts where no
 * daemon starts with the machine. An init system runs it once at boot (a systemd unit, an
 * OpenRC or sysvinit script, a cron @reboot line: README, Restart policies); `brig serve`
 * will do the same when it starts. Prints the containers it started, one name per line; a
 * container that fails to start is named on stderr and the exit code is 1, the rest start.
 */
import { noArgs, type Verb } from '../../verb.js';

export const boot: Verb = {
  spec: {
    name: 'system boot',
    usage: 'system boot',
    summary: 'Start the containers whose restart policy brings them back when the host boots',
    flags: [],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const report = await ctx.engine().bootContainers();
    for (const name of report.started) ctx.stdout.write(`${name}\n`);
    for (const f of report.failed) ctx.stderr.write(`brig: ${f.name}: ${f.error}\n`);
    return report.failed.length ? 1 : 0;
  },
};
