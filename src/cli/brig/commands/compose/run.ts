/**
 * The compose subcommands over the project model (src/compose): `config` prints the project
 * as compose resolved it (interpolated, validated, merged, normalized); the container verbs
 * (up, down, ps, logs, ...) map a project onto Engine calls.
 */
import { homedir } from 'node:os';
import { stringify } from 'yaml';
import { networkName, volumeName } from '../../../../compose/container-config.js';
import { loadProject, locateField, type Project, withLocation } from '../../../../compose/project.js';
import { BrigError } from '../../../../errors/index.js';
import { helpText, parseFlags, type ParsedCommand } from '../../../flags.js';
import type { BrigContext } from '../../context.js';
import { type Sub, VERBS } from './verbs.js';


const config: Sub = {
  spec: {
    name: 'compose config',
    usage: 'compose config [OPTIONS] [SERVICE...]',
    summary: 'Parse, resolve and render the compose file in canonical format',
    flags: [
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only validate the configuration, do not print anything' },
      { name: 'services', type: 'bool', help: 'Print the service names, one per line' },
      { name: 'volumes', type: 'bool', help: 'Print the volume names, one per line' },
      { name: 'profiles', type: 'bool', help: 'Print the profile names, one per line' },
      { name: 'format', type: 'string', help: 'Format the output. Values: [yaml | json]', default: 'yaml' },
    ],
  },
  async run(ctx, project, p) {
    const proj = project();
    const v = p.values;
    if (v.quiet === true) return 0;
    if (v.services === true) {
      ctx.stdout.write(Object.keys(proj.services).map((s) => `${s}\n`).join(''));
      return 0;
    }
    if (v.volumes === true) {
      ctx.stdout.write(Object.keys(proj.volumes).map((s) => `${s}\n`).join(''));
      return 0;
    }
    if (v.profiles === true) {
      const all = new Set([...Object.values(proj.services), ...Object.values(proj.disabled)].flatMap((s) => (s.profiles as string[] | undefined) ?? []));
      ctx.stdout.write([...all].sort().map((s) => `${s}\n`).join(''));
      return 0;
    }
    const wanted = p.args.length ? p.args : Object.keys(proj.services);
    for (const s of wanted) if (!proj.services[s]) throw new BrigError('INVALID_ARGUMENT', `no such service: ${s}`, { field: 'SERVICE' });
    const model = {
      name: proj.name,
      services: Object.fromEntries(wanted.map((s) => [s, proj.services[s]])),
      ...(Object.keys(proj.networks).length ? { networks: Object.fromEntries(Object.entries(proj.networks).map(([k, n]) => [k, { name: networkName(proj, k), ...n }])) } : {}),
      ...(Object.keys(proj.volumes).length ? { volumes: Object.fromEntries(Object.entries(proj.volumes).map(([k, n]) => [k, { name: volumeName(proj, k), ...n }])) } : {}),
    };
    const format = (v.format as string | undefined) ?? 'yaml';
    if (format === 'json') ctx.stdout.write(`${JSON.stringify(model, null, 2)}\n`);
    else if (format === 'yaml') ctx.stdout.write(stringify(model, { lineWidth: 0 }));
    else throw new BrigError('INVALID_ARGUMENT', `unsupported format "${format}" (yaml or json)`, { field: '--format' });
    return 0;
  },
};

const SUBS: Record<string, Sub> = { ...VERBS, config, convert: config };

export async function runCompose(ctx: BrigContext, p: ParsedCommand): Promise<number> {
  const [name, ...argv] = p.args;
  if (name === undefined || name === 'help' || name === '--help') {
    ctx.stdout.write(`Usage:  brig compose [OPTIONS] COMMAND\n\nCommands:\n${Object.entries(SUBS).filter(([k, s]) => k === s.spec.name.split(' ')[1]).map(([k, s]) => `  ${k.padEnd(10)}${s.spec.summary}\n`).join('')}`);
    return name === undefined ? 1 : 0;
  }
  const sub = Object.hasOwn(SUBS, name) ? SUBS[name]! : undefined;
  if (!sub) throw new BrigError('INVALID_ARGUMENT', `unknown docker command: "compose ${name}"`, { hint: "See 'brig compose --help'" });
  const sp = parseFlags(argv, sub.spec);
  if (sp.help) {
    ctx.stdout.write(helpText(sub.spec));
    return 0;
  }
  const v = p.values;
  let loaded: Project | undefined;
  const project = () =>
    (loaded ??= loadProject({
      ...(v.file ? { files: v.file as string[] } : {}),
      ...(typeof v['project-name'] === 'string' ? { projectName: v['project-name'] } : {}),
      ...(typeof v['project-directory'] === 'string' ? { projectDirectory: v['project-directory'] } : {}),
      ...(v['env-file'] ? { envFiles: v['env-file'] as string[] } : {}),
      ...(v.profile ? { profiles: v.profile as string[] } : {}),
      env: ctx.env,
      cwd: ctx.cwd,
      home: homedir(),
      warn: (m) => void ctx.stderr.write(`WARN[0000] ${m}\n`),
    }));
  try {
    return await sub.run(ctx, project, sp);
  } catch (e) {
    // A field of the model (services.web.gpus) is named with its file and line.
    if (loaded && e instanceof BrigError && e.field && /^(services|networks|volumes)\./.test(e.field)) throw withLocation(e, locateField(loaded, e.field));
    throw e;
  }
}
