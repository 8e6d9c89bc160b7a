/**
 * docker top (GET /containers/{id}/top, moby daemon/top_unix.go): the host's `ps` with the
 * caller's options (default "-ef"), keeping the rows whose PID is one of the container's
 * (its cgroup's processes, host pids). The parsing is pure; running ps comes in as `run`.
 *
 * As docker: ps_args is one string cut at single spaces; "-q PIDS" is added so ps reads
 * only those processes, and ps runs again without it when the options refuse -q (f, ...);
 * the columns are the header's words, a row's words past the last column join into it
 * (CMD with its arguments); a thread line (PID "-", with -L/-m/H) stays with the process
 * above it; options that print no PID column, or rename one to PID, are refused.
 */
import { BrigError } from '../../errors/index.js';
import { childProcess } from '../../util/builtins.js';

/** GET /containers/{id}/top's shape. */
export interface ContainerTopResponse {
  Titles: string[];
  Processes: string[][];
}

/** docker's validatePSArgs: "-o user=PID" would pass another column off as the PID. */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw new BrigError('INVALID_ARGUMENT', `specifying "${m[1]}=${m[2]}" is not allowed`, { field: 'ps_args' });
  }
}

/** ps's -q: the pids, comma-separated. */
export function psPidsArg(pids: number[]): string {
  return `-q${pids.join(',')}`;
}

/** strings.Fields over ASCII white space only (docker's fieldsASCII). */
function fieldsASCII(s: string): string[] {
  return s.split(/[\t\n\f\r ]+/).filter((f) => f !== '');
}

/** ps's table, the rows of `pids` kept. */
export function parsePsOutput(output: string, pids: number[]): ContainerTopResponse {
  const lines = output.split('\n');
  const titles = fieldsASCII(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new BrigError('INVALID_ARGUMENT', "Couldn't find PID field in ps output", { field: 'ps_args', hint: 'the ps options must print a PID column (-o pid,...)' });
  const wanted = new Set(pids);
  const processes: string[][] = [];
  const add = (fields: string[]) => processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const fields = fieldsASCII(line);
    const pidField = fields[pidIndex] ?? '';
    if (pidField === '-') {
      if (previousKept) add(fields);
      continue;
    }
    if (!/^[+-]?\d+$/.test(pidField)) throw new BrigError('INTERNAL', `Unexpected pid '${pidField}': strconv.Atoi: parsing ${JSON.stringify(pidField)}: invalid syntax`);
    previousKept = wanted.has(Number(pidField));
    if (previousKept) add(fields);
  }
  return { Titles: titles, Processes: processes };
}

/** One ps run: its stdout, or why it failed (its stderr, or why it could not start). */
export type PsRunner = (args: string[]) => Promise<{ ok: true; stdout: string } | { ok: false; stderr: string; error: string }>;

/** ps with `psArgs` (and -q PIDS when ps takes it), the container's rows kept. */
export async function topProcesses(pids: number[], psArgs: string, run: PsRunner): Promise<ContainerTopResponse> {
  const args = psArgs.split(' ');
  let r = await run([...args, psPidsArg(pids)]);
  // Some options (f, ...) refuse -q: then all of ps, filtered here.
  if (!r.ok) r = await run(args);
  if (!r.ok) {
    const first = r.stderr.split('\n')[0] ?? '';
    throw new BrigError('SYSTEM', `ps: ${first !== '' ? first : r.error}`, { field: 'ps_args' });
  }
  return parsePsOutput(r.stdout, pids);
}

/** The host's ps (procps), found on PATH as docker's exec.Command("ps") finds it. */
export const hostPs: PsRunner = (args) =>
  new Promise((resolve) => {
    childProcess().execFile('ps', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const code = (err as NodeJS.ErrnoException).code;
      resolve({ ok: false, stderr, error: code === 'ENOENT' ? 'exec: "ps": executable file not found in $PATH' : err.message });
    });
  });
