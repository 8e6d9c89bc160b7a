/**
 * A foreground container gets the signals its caller gets (runc run, docker's --sig-proxy):
 * while `exit` is pending, each is passed on to the container's init by number.
 */
import { constants as os } from 'node:os';

/** What runc and docker pass on; SIGKILL and SIGSTOP cannot be caught, SIGCHLD is ours. */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export async function forwardSignalsUntil<T>(exit: Promise<T>, kill: (signal: number) => void): Promise<T> {
  const forward = (sig: NodeJS.Signals) => {
    try {
      kill(os.signals[sig]);
    } catch {}
  };
  for (const s of FORWARDED_SIGNALS) process.on(s, forward);
  try {
    return await exit;
  } finally {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
  }
}
