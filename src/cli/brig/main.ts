/**
 * brig: the docker-like command line. Thin: parse, call the Engine, print.
 */
import { constants as os } from 'node:os';
import { LocalEngine } from '../../engine/local-engine.js';
import { BrigError, isBrigError } from '../../errors/index.js';
import { Helper } from '../../native/helper.js';
import { deviceAttacher } from '../../native/devload.js';
import { locateNative } from '../../native/locate.js';
import { Runtime } from '../../runtime/runtime.js';
import { parseArgs } from '../args.js';

const FORWARDED: NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

const USAGE = `usage: brig COMMAND

commands:
  run [--rm] [--name NAME] [-e K=V] [-w DIR] [-u UID[:GID]] [--hostname H] IMAGE [CMD...]
  images                     list images (the built-in "host" image needs no download)
`;

function engine(): LocalEngine {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0)
    throw new BrigError('HOST_UNSUPPORTED', 'brig needs root for now (rootless mode is not supported yet)', {
      hint: 'run with sudo',
    });
  const runtime = new Runtime({
    root: '/run/brig/runtime',
    helper: new Helper(locateNative('brig-helper', import.meta.url)),
    attachDevices: deviceAttacher(locateNative('brig-devload', import.meta.url)),
  });
  return new LocalEngine({ root: '/var/lib/brig', runtime });
}

async function runCmd(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(
    argv,
    {
      rm: { kind: 'bool' },
      name: { kind: 'string' },
      env: { kind: 'strings', short: 'e' },
      workdir: { kind: 'string', short: 'w' },
      user: { kind: 'string', short: 'u' },
      hostname: { kind: 'string', short: 'h' },
      interactive: { kind: 'bool', short: 'i' },
    },
    true,
  );
  const [image, ...cmd] = rest;
  if (!image) throw new BrigError('INVALID_ARGUMENT', 'run needs an image (try "host")');
  const c = await engine().runContainer({
    image,
    cmd,
    rm: flags.rm === true,
    stdio: [flags.interactive ? 0 : 'ignore', 1, 2],
    ...(flags.name ? { name: flags.name as string } : {}),
    ...(flags.env
      ? { env: (flags.env as string[]).map((e) => (e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`)) }
      : {}),
    ...(flags.workdir ? { workdir: flags.workdir as string } : {}),
    ...(flags.user ? { user: flags.user as string } : {}),
    ...(flags.hostname ? { hostname: flags.hostname as string } : {}),
  });
  const forward = (sig: NodeJS.Signals) => {
    try {
      c.kill(os.signals[sig]);
    } catch {}
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await c.exit;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'run':
        return await runCmd(rest);
      case 'images':
      case 'image':
        if (verb === 'image' && rest[0] !== 'ls')
          throw new BrigError('INVALID_ARGUMENT', `unknown command "image ${rest[0] ?? ''}"`);
        for (const i of await engine().listImages())
          process.stdout.write(`${i.name.padEnd(12)} ${i.builtin ? 'built-in' : ''}  ${i.description}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return verb ? 0 : 1;
      default:
        throw new BrigError('INVALID_ARGUMENT', `unknown command "${verb}"`, { hint: 'see brig --help' });
    }
  } catch (e) {
    const err = isBrigError(e) ? e : new BrigError('INTERNAL', e instanceof Error ? e.message : String(e));
    process.stderr.write(`brig: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    return err.code === 'EXEC_NOT_FOUND' ? 127 : 125;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
