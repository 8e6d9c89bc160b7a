/**
 * docker's extra log attributes (logger.Info.ExtraAttributes and loggerutils.ParseLogTag):
 * the `labels`, `labels-regex`, `env`, `env-regex` and `tag` log options choose what each
 * record carries as `attrs`, and `logs --details` shows. Chosen once, when the container is
 * created, from its labels and environment (image's and its own, merged).
 *
 * In docker's order, later ones winning a key: labels named, labels matching, env named,
 * env matching, then "tag". Regular expressions are Go's (RE2); they run here as JavaScript
 * ones, with Go's leading flags `(?i)` and POSIX classes `[[:alpha:]]` translated. The tag
 * is docker's template with `{{.Field}}` placeholders; other template actions are refused.
 */
import { hostname } from 'node:os';
import { BrigError } from '../../errors/index.js';

/** What a tag template can name (docker's logger.Info and its methods). */
export interface TagInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  imageId: string;
  /** The image as the container names it (Config.Image). */
  imageName: string;
  /** Path and args. */
  command: string[];
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-/:-@[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** A Go regexp as a JavaScript one; an error naming the option when it does not compile. */
export function goRegExp(source: string, field: string): RegExp {
  let flags = 'u';
  let body = source;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' || f === 'm' || f === 's') flags += f;
      else throw new BrigError('INVALID_ARGUMENT', `${field}: regular expression flag "${f}" is not supported`, { field });
    }
    body = body.slice(lead[0].length);
  }
  body = body
    .replace(/\[:(\^?)([a-z]+):\]/g, (m, neg: string, name: string) => {
      const cls = POSIX[name];
      if (!cls) return m;
      if (neg) throw new BrigError('INVALID_ARGUMENT', `${field}: negated POSIX class [:^${name}:] is not supported`, { field });
      return cls;
    })
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$');
  try {
    return new RegExp(body, flags);
  } catch (e) {
    throw new BrigError('INVALID_ARGUMENT', `${field}: invalid regular expression "${source}": ${(e as Error).message}`, { field });
  }
}

/** Checks a tag template without a container (docker parses it at create). */
export function checkTag(template: string, field: string): void {
  tagParts(template, field);
}

function truncateId(id: string): string {
  const bare = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return bare.slice(0, 12);
}

function tagFields(info: TagInfo): Record<string, string> {
  return {
    ID: truncateId(info.id),
    FullID: info.id,
    Name: info.name,
    ImageID: truncateId(info.imageId),
    ImageFullID: info.imageId,
    ImageName: info.imageName,
    Command: info.command.join(' '),
    Hostname: hostname(),
    DaemonName: 'docker',
    ContainerID: info.id,
    ContainerName: `/${info.name}`,
    ContainerImageID: info.imageId,
    ContainerImageName: info.imageName,
  };
}

const PLACEHOLDER = /\{\{-?\s*\.([A-Za-z]+)\s*-?\}\}/g;

function tagParts(template: string, field: string): string[] {
  const known = tagFields({ id: '', name: '', imageId: '', imageName: '', command: [] });
  const names: string[] = [];
  const rest = template.replace(PLACEHOLDER, (_m, name: string) => {
    if (!(name in known)) throw new BrigError('INVALID_ARGUMENT', `${field}: template: can't evaluate field ${name}`, { field, hint: `one of ${Object.keys(known).map((k) => `{{.${k}}}`).join(' ')}` });
    names.push(name);
    return '';
  });
  if (rest.includes('{{')) {
    throw new BrigError('UNSUPPORTED_FIELD', `${field}: only {{.Field}} placeholders are supported in a log tag, not "${template}"`, { field, hint: 'e.g. {{.Name}}/{{.ID}}' });
  }
  return names;
}

function renderTag(template: string, info: TagInfo): string {
  const values = tagFields(info);
  // Go's {{- and -}} trim the white space beside the action.
  return template.replace(/\s*\{\{-|-\}\}\s*/g, (m) => (m.includes('{{') ? '{{' : '}}')).replace(PLACEHOLDER, (_m, name: string) => values[name]!);
}

/** The attrs for a container: labels, then env, then the tag (docker's order; later keys win). */
export function extraAttributes(opts: Record<string, string>, ctx: { labels: Record<string, string>; env: string[]; container?: TagInfo }, field: (key: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  if (opts.labels) for (const l of opts.labels.split(',')) if (Object.hasOwn(ctx.labels, l)) out[l] = ctx.labels[l]!;
  if (opts['labels-regex']) {
    const re = goRegExp(opts['labels-regex'], field('labels-regex'));
    for (const [k, v] of Object.entries(ctx.labels)) if (re.test(k)) out[k] = v;
  }
  const env = new Map<string, string>();
  for (const e of ctx.env) {
    const eq = e.indexOf('=');
    if (eq >= 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  if (opts.env) for (const k of opts.env.split(',')) if (env.has(k)) out[k] = env.get(k)!;
  if (opts['env-regex']) {
    const re = goRegExp(opts['env-regex'], field('env-regex'));
    for (const [k, v] of env) if (re.test(k)) out[k] = v;
  }
  if (opts.tag) {
    tagParts(opts.tag, field('tag'));
    if (!ctx.container) throw new BrigError('INTERNAL', `${field('tag')}: the container's identity is needed to expand a log tag`);
    const tag = renderTag(opts.tag, ctx.container);
    if (tag !== '') out.tag = tag;
  }
  return out;
}
