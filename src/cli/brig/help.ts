/** `brig --help` and `brig GROUP --help`, laid out as docker's, from the command table. */
import { isGroup, type Verb, type VerbGroup } from './verb.js';

function rows(entries: [string, string][]): string {
  const width = Math.max(...entries.map(([n]) => n.length)) + 2;
  return entries.map(([n, s]) => `  ${n.padEnd(Math.max(width, 12))}${s.split('\n')[0]}`).join('\n');
}

export function mainHelp(commands: Record<string, Verb | VerbGroup>): string {
  const verbs: [string, string][] = [];
  const groups: [string, string][] = [];
  for (const [name, c] of Object.entries(commands).sort(([a], [b]) => a.localeCompare(b))) {
    if (isGroup(c)) groups.push([name, c.summary]);
    else if (!c.spec.hidden) verbs.push([name, c.spec.summary]);
  }
  return `
Usage:  brig [OPTIONS] COMMAND

A container engine for Linux: containers isolated by the kernel's own primitives

Management Commands:
${rows(groups)}

Commands:
${rows(verbs)}

The built-in image "host" (read-only views of the host's /usr, /bin, /lib*) needs no pull.
Run 'brig COMMAND --help' for more information on a command.
`;
}

export function groupHelp(g: VerbGroup): string {
  const entries = Object.entries(g.verbs)
    .filter(([, v]) => !v.spec.hidden)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, v]): [string, string] => [n, v.spec.summary]);
  return `
Usage:  brig ${g.name} COMMAND

${g.summary}

Commands:
${rows(entries)}

Run 'brig ${g.name} COMMAND --help' for more information on a command.
`;
}
