/**
 * brig's templates against Go's own text/template (with docker's functions), on the unit
 * table and on more templates that have no fixed answer: each must print what Go prints, or
 * fail where Go fails with Go's message. brig's parse errors add the column to Go's line, and
 * a few differences are on purpose (DIFFERENT, each with its reason). Needs a Go toolchain
 * (Debian's golang-go, or /usr/lib/go-*); skipped, saying so, without one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseTemplate } from '../../../src/cli/format/template.js';
import { repoRoot } from '../../support/requires.js';
import { CASES, DATA, ERRORS } from './template-cases.js';

function findGo(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  const lib = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((d) => /^go-\d/.test(d)).sort().reverse() : [];
  return lib.map((d) => `/usr/lib/${d}/bin/go`).find((g) => existsSync(g));
}

const GO = findGo();

/** Where brig differs from Go on purpose. */
const DIFFERENT: Record<string, string> = {
  '{{join .Config.Cmd " "}}': "docker's fields are []string, so join works there; brig's JSON arrays are []interface {} to Go",
  '{{range 3}}{{.}}{{end}}': 'range over an int is Go 1.22 (docker builds with it); older Go refuses it',
  '{{define "x"}}{{end}}': 'define/template/block are refused, not half done',
  '{{lt 1.5 2}}': 'numbers from JSON are one kind to brig; Go refuses float64 against int',
  '{{$y = 1}}': 'brig finds the undefined variable when it parses',
  '{{len .Nope}}': "Go's message here is a reflect panic's text",
  '{{eq .Nums .Nums}}': "Go prints the slice with %s's misuse markers",
};

const MORE = [
  '{{.State}}', '{{printf "%v" .State}}', '{{printf "%s" .State.Pid}}', '{{printf "%d" .Float}}', '{{printf "%6.2f|%-8v|%+d" .Float .Id 5}}',
  '{{printf "%x" "hi"}}', '{{printf "%q" .Config.Env}}', '{{printf "%v %v" .Nums .Nope}}', '{{print .Nope}}', '{{println .Nums .Nope}}',
  '{{len .Nope}}', '{{index .Nope "x"}}', '{{index .Config.Labels 1}}', '{{index .Nums "a"}}', '{{slice .Nums 1}}', '{{slice .Nums 1 9}}',
  '{{not 0}} {{not "x"}}', '{{and}}', '{{eq 1}}', '{{eq .Nums .Nums}}', '{{eq .Nil .Nope}}', '{{eq .Nil nil}}', '{{ne 1 "a"}}', '{{lt 1.5 2}}',
  '{{lt "a" 1}}', '{{.Id.x}}', '{{$}}', '{{$.Id}}', '{{$x := .Nums}}{{range $x}}{{.}}{{end}}', '{{range $i, $e := .Config.Labels}}{{$i}}{{end}}',
  '{{range $e := .Nums}}{{$e}}{{end}}', '{{with .Empty}}x{{else}}y{{end}}', '{{if .Nope}}{{else if .Id}}id{{end}}',
  '{{if 1}}a{{else}}b{{else}}c{{end}}', '{{else}}', '{{range}}{{end}}', '{{.Id | printf "%s!"}}', '{{.Id | printf "%s %s" "a"}}',
  '{{"a" | len}}', '{{(len .Nums) | printf "%03d"}}', '{{1 | 2}}', '{{.Id .Id}}', '{{. | lower}}', '{{lower}}', '{{lower "a" "b"}}',
  '{{printf "%v" nil}}', '{{1e3}}', '{{0x1F}}', "{{'a'}}", '{{"\\u00e9\\x41"}}', '{{ .Id}}{{.Id }}', '{{  -  .Id}}', 'a {{-.Id}}',
  '{{.Id -}}  b', '{{/* c */ .Id}}', '{{- /* c */ -}}', '{{$x := 1}}{{$x := 2}}{{$x}}', '{{if $x := .Id}}{{$x}}{{end}}{{$x}}',
  '{{$y = 1}}', '{{range .Nums}}{{break}}{{end}}x', '{{title "o\'neil is_here-now"}}', '{{split "abc" ""}}', '{{join (split "a b c" " ") "-"}}',
  '{{json .Nums}}{{json 1.5}}{{json "a\\tb\\u0001"}}', '{{printf "%s" (json .Config.Labels)}}', '{{.Config.Labels.a}}', '{{index . "Id"}}',
  '{{index .Config "Labels" "a"}}', '{{len .Nums | printf "%d" | len}}', '{{printf "%5.1f%%" 12.345}}', '{{printf "%-5d|%5t|" 3 true}}',
  '{{printf "%08.3f" -3.14159}}', '{{printf "%c%c" 72 105}}', '{{printf "%U" 65}}', '{{printf "%s %s" "a"}}', '{{.Nums.x}}',
  '{{.Id}}}', '}}{{.Id}}', '{{.Id | | lower}}', '{{(.Id}}', '{{.Id)}}', '{{$x.y}}', '{{"x".y}}', '{{(.State).Pid}}', '{{index .Nums -1}}',
  '{{.Big | printf "%v"}}', '{{printf "%v %v" 0.000012 123456.5}}', '{{pad .Id 1 2}}|{{truncate .Id 2}}|{{upper .Id}}',
];

test("templates print what Go's text/template prints, and fail where it fails", { skip: GO ? false : 'no Go toolchain (apt-get install golang-go)' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-gotmpl-'));
  try {
    copyFileSync(path.join(repoRoot, 'tests/support/gotemplate/main.go'), path.join(dir, 'main.go'));
    writeFileSync(path.join(dir, 'go.mod'), 'module gotemplate\n\ngo 1.21\n');
    const env = { ...process.env, GOCACHE: path.join(dir, 'cache'), GOPATH: path.join(dir, 'gopath'), GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
    const build = spawnSync(GO!, ['build', '-o', 'gotmpl', '.'], { cwd: dir, env, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    const cases = [...CASES, ...ERRORS, ...MORE.map((t) => [t])].map(([t, , d]) => ({ T: t as string, D: d ?? DATA }));
    const run = spawnSync(path.join(dir, 'gotmpl'), { input: `${cases.map((c) => JSON.stringify(c)).join('\n')}\n`, encoding: 'utf8' });
    const gos = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { out?: string; err?: string });
    assert.equal(gos.length, cases.length);
    const differ: string[] = [];
    cases.forEach((c, i) => {
      if (DIFFERENT[c.T]) return;
      let brig: { out?: string; err?: string };
      try {
        brig = { out: parseTemplate(c.T).execute(c.D) };
      } catch (e) {
        // A parse error: Go's says the line only.
        brig = { err: (e as Error).message.replace(/^(template: :\d+):\d+: (?!executing)/, '$1: ') };
      }
      const go = gos[i]!;
      if (go.out !== brig.out || go.err !== brig.err) differ.push(`${JSON.stringify(c.T)}\n  go:   ${JSON.stringify(go)}\n  brig: ${JSON.stringify(brig)}`);
    });
    assert.deepEqual(differ, [], `${differ.length} of ${cases.length} differ from Go:\n${differ.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
