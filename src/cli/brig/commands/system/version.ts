/** brig version: the client's and the engine's versions, in docker's layout. */
import { API_VERSION } from '../../../../engine/api-version.js';
import type { EngineVersion } from '../../../../engine/engine.js';
import { BRIG_VERSION } from '../../../../engine/version.js';
import { buildInfo } from '../../../../util/build-info.js';
import { DOCKER_FUNCS, parseTemplate, type Template, TemplateError } from '../../../format/template.js';
import { tabwrite } from '../../../format/tabwriter.js';
import { noArgs, type Verb } from '../../verb.js';

/**
 * docker's defaultVersionTemplate (cli/command/system/version.go): Node in place of Go, no
 * Context line (brig has no contexts), `if .X` for docker's `if ne .X nil`.
 */
const DEFAULT = `{{with .Client -}}
Client:{{if .Platform}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.ApiVersion}}
 Node version:\t{{.NodeVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
{{- end}}

{{- if .Server}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Node version:\t{{index .Details "NodeVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:\t{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

const FUNCS = {
  ...DOCKER_FUNCS,
  getDetailsOrder: { params: ['any' as const], fn: (c: unknown) => Object.keys((c as { Details?: Record<string, string> }).Details ?? {}).sort() },
};

/** Go's time.ANSIC ("Mon Jan _2 15:04:05 2006") of an RFC 3339 time, as docker shows Built. */
export function ansic(rfc3339: string): string {
  const t = new Date(rfc3339);
  if (rfc3339 === '' || Number.isNaN(t.getTime())) return rfc3339;
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][t.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][t.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(t.getUTCDate()).padStart(2, ' ')} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} ${t.getUTCFullYear()}`;
}

/** A Go struct field docker's templates know (`.APIVersion`) beside the JSON name (`ApiVersion`). */
function alias<T extends object>(o: T, name: string, value: unknown): T {
  Object.defineProperty(o, name, { value, enumerable: false });
  return o;
}

/**
 * docker version: the client part from this build; the server part from the engine (the
 * same build here, in process). If the engine cannot be had (not root), the client part is
 * printed and then the error, exit 1, as docker does without a daemon. A template that does
 * not parse exits 64, as docker's.
 */
export const version: Verb = {
  spec: {
    name: 'version',
    usage: 'version [OPTIONS]',
    summary: 'Show the brig version information',
    flags: [{ name: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  },
  async run(ctx, p) {
    noArgs(p, this.spec);
    const given = (p.values.format as string | undefined) ?? '';
    let tmpl: Template;
    try {
      tmpl = parseTemplate(given === '' ? DEFAULT : given === 'json' ? '{{json .}}' : given, FUNCS);
    } catch (e) {
      ctx.stderr.write(`template parsing error: ${(e as Error).message}\n`);
      return 64;
    }
    const b = buildInfo();
    const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' }[process.arch as string] ?? process.arch;
    const client = alias(
      { Platform: { Name: 'brig' }, Version: BRIG_VERSION, ApiVersion: API_VERSION, GitCommit: b.commit, NodeVersion: b.node, Os: 'linux', Arch: arch, BuildTime: ansic(b.built) },
      'APIVersion',
      API_VERSION,
    );
    let server: EngineVersion | undefined;
    let failure: Error | undefined;
    try {
      server = await ctx.engine().version();
      for (const c of server.Components) if (c.Name === 'Engine' && c.Details.BuildTime !== undefined) c.Details.BuildTime = ansic(c.Details.BuildTime);
      alias(server, 'APIVersion', server.ApiVersion);
    } catch (e) {
      failure = e as Error;
    }
    try {
      // docker runs every template's output through tabwriter(minwidth 20, padding 1).
      ctx.stdout.write(tabwrite(`${tmpl.execute({ Client: client, Server: server ?? null })}\n`, { minWidth: 20, padding: 1 }));
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      ctx.stderr.write(`${e.message}\n`);
      return 1;
    }
    if (failure !== undefined) {
      ctx.stderr.write(`${failure.message}\n`);
      return 1;
    }
    return 0;
  },
};
