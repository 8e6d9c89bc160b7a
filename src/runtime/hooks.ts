/**
 * OCI hooks that run in the runtime namespace (prestart, createRuntime, poststart,
 * poststop): the container state on stdin, exactly the config's args and env, killed at
 * its timeout. createContainer and startContainer run inside the container: the plan
 * compiler turns them into `hook` ops the helper executes there.
 */
import { BrigError } from '../errors/index.js';
import { childProcess } from '../util/builtins.js';
import type { Hook, State } from './spec/types.js';

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export function runHook(hook: Hook, state: State, field: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = hook.args ?? [hook.path];
    const env = Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    // Its own process group, so a timeout kills what the hook started too.
    const child = childProcess().spawn(hook.path, args.slice(1), { argv0: args[0] ?? hook.path, env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = hook.timeout
      ? setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {}
        }, hook.timeout * 1000)
      : undefined;
    let timedOut = false;
    if (timer) timer.unref();
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new BrigError('HOOK_FAILED', `${field}: cannot run ${hook.path}: ${e.message}`, { field, path: hook.path }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && hook.timeout) timedOut = true;
      if (code === 0) return resolve();
      const why = timedOut ? `timed out after ${hook.timeout}s` : signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new BrigError('HOOK_FAILED', `${field}: ${hook.path} failed (${why})${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`, { field, path: hook.path }));
    });
    child.stdin.on('error', () => {}); // a hook that does not read its stdin is fine
    child.stdin.end(JSON.stringify(state));
  });
}

/** Runs the hooks of one kind in order; the first failure stops them. */
export async function runHooks(hooks: Hook[] | undefined, kind: HookKind, state: State): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) await runHook(h, state, `hooks.${kind}[${i}]`);
}
