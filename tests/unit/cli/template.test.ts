/**
 * Go's text/template as docker's --format uses it: each row is a template, data, and what Go
 * prints (or the start of Go's error, with its line:col). Expected values are Go 1.22's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectFormatter, listFormatter } from '../../../src/cli/format/docker.js';
import { tabwrite } from '../../../src/cli/format/tabwriter.js';
import { goStruct, parseTemplate, sprintf, TemplateError } from '../../../src/cli/format/template.js';
import { CASES, DATA, ERRORS } from './template-cases.js';


test('templates render as Go renders them', () => {
  for (const [src, want, data] of CASES) {
    assert.equal(parseTemplate(src).execute(data ?? DATA), want, src);
  }
});


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
