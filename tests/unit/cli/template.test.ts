/**
 * Go's text/template as docker's --format uses it: each row is a template, data, and what Go
 * prints (or the start of Go's error, with its line:col). Expected values are Go 1.22's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectFormatter, listFormatter } from '../../../src/cli/format/docker.js';
import { tabwrite } from '../../../src/cli/format/tabwriter.js';
import { goStruct, parseTemplate, sprintf, TemplateError } from '../../../src/cli/format/template.js';

const DATA = {
  Id: 'abc123',
  Name: '/web',
  State: { Pid: 4242, Running: true, Status: 'running', ExitCode: 0, Error: '' },
  Config: { Env: ['A=1', 'PATH=/bin'], Cmd: ['sh', '-c', 'echo hi'], Labels: { 'com.x': 'y', a: 'b' }, Image: 'Busybox' },
  Empty: {},
  List: [],
  Nums: [3, 1, 2],
  Nil: null,
  Big: 12345678901,
  Float: 1.5,
  Str: '  pad  ',
};

const CASES: [string, string, unknown?][] = [
  // fields, dot, missing keys
  ['{{.Id}}', 'abc123'],
  ['{{.State.Pid}}', '4242'],
  ['{{.Big}}', '12345678901'],
  ['{{.Float}}', '1.5'],
  ['{{.Nope}}', '<no value>'],
  ['{{.Nope.Deeper}}', '<no value>'],
  ['{{.Nil}}', '<no value>'],
  ['{{.}}', 'hello', 'hello'],
  ['{{.Config.Labels}}', 'map[a:b com.x:y]'],
  ['{{.Config.Env}}', '[A=1 PATH=/bin]'],
  ['{{.Empty}} {{.List}}', 'map[] []'],
  ['{{.State.Running}}', 'true'],
  // functions and pipelines
  ['{{.Config.Image | lower}}', 'busybox'],
  ['{{upper .Config.Image}}', 'BUSYBOX'],
  ['{{.Config.Image | lower | upper}}', 'BUSYBOX'],
  ['{{json .Config.Env}}', '["A=1","PATH=/bin"]'],
  ['{{json .State}}', '{"Error":"","ExitCode":0,"Pid":4242,"Running":true,"Status":"running"}'],
  ['{{json "<a&b>"}}', '"<a&b>"'],
  ['{{json .Nope}}', 'null'],
  ['{{index .Config.Labels "com.x"}}', 'y'],
  ['{{index .Config.Labels "none"}}', '<no value>'],
  ['{{index .Config.Cmd 1}}', '-c'],
  ['{{index .Nums 0}}', '3'],
  ['{{join .Config.Cmd " "}}', 'sh -c echo hi'],
  ['{{split "a,b,c" ","}}', '[a b c]'],
  ['{{title "hello wide world"}}', 'Hello Wide World'],
  ['[{{pad "x" 2 1}}]', '[  x ]'],
  ['[{{pad "" 2 1}}]', '[]'],
  ['{{truncate "abcdef" 3}}', 'abc'],
  ['{{truncate "ab" 3}}', 'ab'],
  ['{{len .Config.Env}} {{len "héllo"}} {{len .Config.Labels}}', '2 6 2'],
  ['{{slice "abcdef" 1 3}}', 'bc'],
  ['{{println "a" 1}}', 'a 1\n'],
  ['{{print "a" 1 2 "b"}}', 'a1 2b'],
  // printf and Go's verbs
  ['{{printf "%s-%d" .Id .State.Pid}}', 'abc123-4242'],
  ['{{printf "%-10s|" .Id}}', 'abc123    |'],
  ['{{printf "%10s|" .Id}}', '    abc123|'],
  ['{{printf "%q" .Id}}', '"abc123"'],
  ['{{printf "%v" .Config.Labels}}', 'map[a:b com.x:y]'],
  ['{{printf "%05d" 42}}', '00042'],
  ['{{printf "%x %X" 255 255}}', 'ff FF'],
  ['{{printf "%.2f" .Float}}', '1.50'],
  ['{{printf "%t" true}}', 'true'],
  ['{{printf "%d" "s"}}', '%!d(string=s)'],
  ['{{printf "%s"}}', '%!s(MISSING)'],
  ['{{printf "%s" .Nope}}', '%!s(<nil>)'],
  ['{{printf "x" 1}}', 'x%!(EXTRA int=1)'],
  ['{{printf "100%%"}}', '100%'],
  ['{{"quoted\\tstring"}}|{{`raw\\t`}}', 'quoted\tstring|raw\\t'],
  ['{{printf "%c" \'A\'}}', 'A'],
  // if / else if / else, with, comparison, logic
  ['{{if .State.Running}}up{{else}}down{{end}}', 'up'],
  ['{{if .List}}some{{else}}none{{end}}', 'none'],
  ['{{if .Empty}}some{{else}}none{{end}}', 'none'],
  ['{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{else}}?{{end}}', 'r'],
  ['{{if eq .State.Pid 1 2 4242}}yes{{end}}', 'yes'],
  ['{{if ne .Id "x"}}ne{{end}}', 'ne'],
  ['{{if lt 1 2}}lt{{end}}{{if le 2 2}}le{{end}}{{if gt "b" "a"}}gt{{end}}{{if ge 1 2}}ge{{end}}', 'ltlegt'],
  ['{{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}} {{not .List}}', '0 2 x  true'],
  ['{{if and .State.Running (eq .State.ExitCode 0)}}ok{{end}}', 'ok'],
  ['{{if eq .Nope "x"}}eq{{else}}no{{end}}', 'no'],
  ['{{with .State}}{{.Pid}}{{end}}', '4242'],
  ['{{with .Nope}}x{{else}}empty{{end}}', 'empty'],
  ['{{with $s := .State.Status}}{{$s}}{{end}}', 'running'],
  // range, variables
  ['{{range .Config.Env}}[{{.}}]{{end}}', '[A=1][PATH=/bin]'],
  ['{{range $i, $e := .Config.Env}}{{$i}}={{$e}} {{end}}', '0=A=1 1=PATH=/bin '],
  ['{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}', 'a:b,com.x:y,'],
  ['{{range .List}}x{{else}}nothing{{end}}', 'nothing'],
  ['{{range .Nope}}x{{end}}.', '.'],
  ['{{range 3}}{{.}}{{end}}', '012'],
  ['{{range .Nums}}{{if eq . 1}}{{break}}{{end}}{{.}}{{end}}', '3'],
  ['{{range .Nums}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}', '32'],
  ['{{$x := .Id}}{{$x}}', 'abc123'],
  ['{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', '2'],
  ['{{range .Config.Env}}{{$.Id}}{{end}}', 'abc123abc123'],
  ['{{(index .Config.Cmd 0)}} {{(.State).Pid}}', 'sh 4242'],
  // trim markers and comments
  ['a  {{- .Id -}}  b', 'aabc123b'],
  ['a {{- /* note */ -}} b', 'ab'],
  ['a{{/* note */}}b', 'ab'],
  ['{{- range .Config.Env }}\n  {{ . }}\n{{- end }}', '\n  A=1\n  PATH=/bin'],
  ['{{-3}}', '-3'],
  // literals
  ['{{1}} {{-2}} {{0x10}} {{1.25}} {{true}} {{"s"}}', '1 -2 16 1.25 true s'],
];

test('templates render as Go renders them', () => {
  for (const [src, want, data] of CASES) {
    assert.equal(parseTemplate(src).execute(data ?? DATA), want, src);
  }
});

const ERRORS: [string, RegExp, unknown?][] = [
  ['{{.Id', /^template: :1:0: unclosed action$/],
  ['x\n{{ .Id', /^template: :2:0: unclosed action$/],
  ['{{.Id}', /^template: :1:5: bad character U\+007D '}'$/],
  ['{{.Id \u00a7}}', /^template: :1:6: unrecognized character in action: U\+00A7 '\u00a7'$/],
  ['{{.Id | nosuch}}', /^template: :1:8: function "nosuch" not defined$/],
  ['{{end}}', /^template: :1:2: unexpected \{\{end\}\}$/],
  ['{{if .Id}}x', /^template: :1:11: unexpected EOF$/],
  ['{{$x}}', /^template: :1:2: undefined variable "\$x"$/],
  ['{{"abc}}', /^template: :1:2: unterminated quoted string$/],
  ['{{.Id #}}', /^template: :1:6: unexpected "#" in operand$/],
  ['{{define "x"}}{{end}}', /not supported/],
  ['{{if}}{{end}}', /missing value for if/],
  // execution: Go's "executing ... at <node>", placed as Go places it (checked against go1.21)
  ['{{.Id.Sub}}', /^template: :1:5: executing "" at <.Id.Sub>: can't evaluate field Sub in type interface \{\}$/],
  ['{{.Nil.Sub}}', /^template: :1:6: executing "" at <.Nil.Sub>: nil pointer evaluating interface \{\}.Sub$/],
  ['{{index .Config.Cmd 9}}', /^template: :1:2: executing "" at <index .Config.Cmd 9>: error calling index: index out of range: 9$/],
  ['{{lower .State.Pid}}', /^template: :1:14: executing "" at <.State.Pid>: wrong type for value; expected string; got int$/],
  ['{{if eq .Id 1}}{{end}}', /^template: :1:5: executing "" at <eq .Id 1>: error calling eq: incompatible types for comparison$/],
  ['{{lt true false}}', /^template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison$/],
  ['{{range .Id}}{{end}}', /^template: :1:8: executing "" at <.Id>: range can't iterate over abc123$/],
  ['{{len 3}}', /^template: :1:2: executing "" at <len 3>: error calling len: len of type int$/],
  ['{{lower "a" "b"}}', /^template: :1:2: executing "" at <lower>: wrong number of args for lower: want 1 got 2$/],
  ['{{index}}', /wrong number of args for index: want at least 1 got 0/],
  ['{{nil}}', /^template: :1:2: executing "" at <nil>: nil is not a command$/],
  ['{{break}}', /^template: :1:2: \{\{break\}\} outside \{\{range\}\}$/],
  ['{{  -  .Id}}', /illegal number syntax: "-"/],
  ['{{.Id | | lower}}', /unexpected "\|" in command/],
  ['{{.Id | .State}}', /at <.State>: State is not a method but has arguments/],
  ['{{.Id | $}}', /can't give argument to non-function \$/],
];

test("errors say where, as Go's do", () => {
  for (const [src, want, data] of ERRORS) {
    assert.throws(
      () => parseTemplate(src).execute(data ?? DATA),
      (e: unknown) => e instanceof TemplateError && e.code === 'INVALID_TEMPLATE' && want.test(e.message),
      src,
    );
  }
});

test('a Go struct: unknown fields are errors, function fields are methods', () => {
  const row = goStruct('formatter.ContainerContext', { ID: 'abc', Label: (k: unknown) => (k === 'a' ? 'b' : '') });
  assert.equal(parseTemplate('{{.ID}} {{.Label "a"}}|{{.Label "z"}}|{{"a" | .Label}}').execute(row), 'abc b||b');
  assert.throws(() => parseTemplate('{{.Nope}}').execute(row), /at <.Nope>: can't evaluate field Nope in type \*formatter.ContainerContext/);
  assert.equal(parseTemplate('{{json .}}').execute(row), '{"ID":"abc"}');
  assert.throws(() => parseTemplate('{{.ID "x"}}').execute(row), /ID is not a method but has arguments/);
});

test('sprintf matches fmt.Sprintf for the verbs people use', () => {
  const rows: [string, unknown[], string][] = [
    ['%s|%5s|%-5s|%.2s', ['ab', 'ab', 'ab', 'abc'], 'ab|   ab|ab   |ab'],
    ['%d|%+d|%5d|%-5d|%05d', [7, 7, -7, 7, -7], '7|+7|   -7|7    |-0007'],
    ['%v %v %v', [[1, 2], { b: 1, a: [true] }, null], '[1 2] map[a:[true] b:1] <nil>'],
    ['%q %q', ['a"b\n', 65], '"a\\"b\\n" \'A\''],
    ['%#x %o %b', [255, 8, 5], '0xff 10 101'],
    ['%e %g %g %.3g %f', [123456.789, 0.000001, 1234567.5, 3.14159, 2], '1.234568e+05 1e-06 1.2345675e+06 3.14 2.000000'],
    ['%v %v %v', [0.5, 1e-7, 2.5e22], '0.5 1e-07 2.5e+22'],
    ['%U', [65], 'U+0041'],
    ['%s', [[`a`, `b`]], '[a b]'],
    ['%T %T %T', ['s', 1, {}], 'string int map[string]interface {}'],
  ];
  for (const [f, args, want] of rows) assert.equal(sprintf(f, args), want, f);
});

test("tabwriter pads as docker's tables (minwidth 10, padding 3)", () => {
  assert.equal(tabwrite('A\tB\tC\nlonger-cell\tx\ty\n'), 'A             B         C\nlonger-cell   x         y\n');
  // The last cell of a line is not aligned; a line without tabs ends the block.
  assert.equal(tabwrite('a\tb\nno tabs here\naaaaaaaaaaaaa\tb\n'), 'a         b\nno tabs here\naaaaaaaaaaaaa   b\n');
});

test('list formats: table with docker header names, json per line, \\t escapes', () => {
  const header = goStruct('formatter.ContainerContext', { ID: 'CONTAINER ID', Names: 'NAMES', Label: () => 'LABEL' });
  const rows = [goStruct('formatter.ContainerContext', { ID: '0123456789ab', Names: 'web', Label: () => 'v' })];
  assert.equal(listFormatter('table {{.ID}}\\t{{.Names}}', '').render(rows, header), 'CONTAINER ID   NAMES\n0123456789ab   web\n');
  assert.equal(listFormatter('table {{.ID | lower}}\\t{{.Label "k"}}', '').render(rows, header), 'CONTAINER ID   LABEL\n0123456789ab   v\n');
  assert.equal(listFormatter('{{.Names}} {{.ID}}', '').render(rows, header), 'web 0123456789ab\n');
  assert.equal(listFormatter('json', '').render(rows, header), '{"ID":"0123456789ab","Names":"web"}\n');
  assert.equal(listFormatter(undefined, '{{.Names}}').render(rows, header), 'NAMES\nweb\n');
  assert.equal(listFormatter('table', '{{.Names}}').render([], header), 'NAMES\n');
  assert.throws(() => listFormatter('{{.Names', ''), /: template parsing error: template: :1:0: unclosed action$/);
});

test('inspect formats: the JSON array by default, else the template once per object', () => {
  const objs = [{ State: { Pid: 1 } }, { State: { Pid: 2 } }];
  assert.equal(inspectFormatter('{{.State.Pid}}').render(objs), '1\n2\n');
  assert.equal(inspectFormatter(undefined).render(objs), `${JSON.stringify(objs, null, 4)}\n`);
  assert.equal(inspectFormatter('json').render(objs), `${JSON.stringify(objs, null, 4)}\n`);
});
