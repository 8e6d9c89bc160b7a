import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterFlag } from '../../../src/cli/brig/filter-flag.js';
import { type CommandSpec, completionWords, helpText, parseFlags } from '../../../src/cli/flags.js';

const RUN: CommandSpec = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
    { name: 'rm', type: 'bool', help: 'Automatically remove the container when it exits' },
    { name: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
    { name: 'name', type: 'string', help: 'Assign a name to the container' },
    { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
    { name: 'log-driver', type: 'string', help: 'Logging driver for the container', default: 'json-file' },
  ],
};

test("combined short booleans, as docker's -it and -dit", () => {
  const p = parseFlags(['-it', 'busybox', 'sh'], RUN);
  assert.equal(p.values.interactive, true);
  assert.equal(p.values.tty, true);
  assert.deepEqual(p.args, ['busybox', 'sh']);
  const q = parseFlags(['-dit', '--rm', 'img'], RUN);
  assert.deepEqual([q.values.detach, q.values.interactive, q.values.tty, q.values.rm], [true, true, true, true]);
});

test('short flag values: the rest of the word, the next word, or after "="; a combined run ends at one', () => {
  assert.deepEqual(parseFlags(['-eA=1', '-e', 'B=2', '-e=C=3', 'img'], RUN).values.env, ['A=1', 'B=2', 'C=3']);
  const p = parseFlags(['-ie', 'X=1', 'img'], RUN);
  assert.equal(p.values.interactive, true);
  assert.deepEqual(p.values.env, ['X=1']);
  assert.deepEqual(parseFlags(['-ieX=1', 'img'], RUN).values.env, ['X=1']);
});

test('long flags with = or a separate word; booleans take =false but never the next word', () => {
  const p = parseFlags(['--name=web', '--stop-timeout', '5', '--rm=false', 'img'], RUN);
  assert.equal(p.values.name, 'web');
  assert.equal(p.values['stop-timeout'], 5);
  assert.equal(p.values.rm, false);
  assert.equal(parseFlags(['-i=false', 'img'], RUN).values.interactive, false);
  assert.deepEqual(parseFlags(['--rm', 'false', 'x'], RUN).args, ['false', 'x']);
});

test('flags end at the first positional: the rest is the container command', () => {
  const p = parseFlags(['--rm', 'img', 'ls', '-la', '--name', 'x'], RUN);
  assert.deepEqual(p.args, ['img', 'ls', '-la', '--name', 'x']);
  assert.equal(p.values.name, undefined);
  assert.deepEqual(parseFlags(['--', '-img'], RUN).args, ['-img']);
});

test("defaults, what was given, and docker's errors naming the flag", () => {
  const p = parseFlags(['img'], RUN);
  assert.equal(p.values['log-driver'], 'json-file');
  assert.equal(p.given.has('log-driver'), false);
  assert.throws(() => parseFlags(['-ix', 'img'], RUN), /unknown shorthand flag: 'x' in -ix/);
  assert.throws(() => parseFlags(['--nope', 'img'], RUN), /unknown flag: --nope/);
  assert.throws(() => parseFlags(['--name'], RUN), /flag needs an argument: --name/);
  assert.throws(() => parseFlags(['-e'], RUN), /flag needs an argument: 'e' in -e/);
  assert.throws(() => parseFlags(['--stop-timeout=soon', 'img'], RUN), /invalid argument "soon" for "--stop-timeout" flag/);
  assert.throws(() => parseFlags(['--rm=maybe', 'img'], RUN), /invalid argument "maybe" for "--rm" flag/);
  try {
    parseFlags(['--nope'], RUN);
  } catch (e) {
    assert.equal((e as { hint?: string }).hint, "See 'brig run --help'.");
  }
  assert.equal(parseFlags(['--help'], RUN).help, true);
});

test('--help and completion come from the same table', () => {
  const h = helpText(RUN);
  assert.match(h, /^\nUsage: {2}brig run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nCreate and run a new container from an image\n/);
  assert.match(h, /\n {2}-d, --detach {2,}Run container in background and print container ID\n/);
  assert.match(h, /\n {2}-e, --env list {2,}Set environment variables\n/);
  assert.match(h, /\n {6}--log-driver string {2,}Logging driver for the container \(default "json-file"\)\n/);
  assert.deepEqual(completionWords(RUN).slice(0, 4), ['--detach', '-d', '--interactive', '-i']);
  assert.ok(completionWords(RUN).includes('--help'));
});

test("--filter as docker's FilterOpt: KEY=VALUE gathered by key, the key lower-cased, both trimmed", () => {
  const PS: CommandSpec = { name: 'ps', usage: 'ps', summary: '', flags: [{ name: 'filter', short: 'f', type: 'list', help: '' }] };
  const PRUNE: CommandSpec = { name: 'container prune', usage: '', summary: '', flags: [{ name: 'filter', type: 'list', help: '' }] };
  assert.deepEqual(filterFlag(parseFlags(['-f', 'name=a', '--filter', ' Label = x=1 ', '-f', 'name=b', '-fname=a', '-f', ''], PS), PS), { name: ['a', 'b'], label: ['x=1'] });
  assert.deepEqual(filterFlag(parseFlags([], PS), PS), {});
  assert.throws(() => filterFlag(parseFlags(['-f', 'foo'], PS), PS), /^BrigError: invalid argument "foo" for "-f, --filter" flag: bad format of filter \(expected name=value\)$/);
  assert.throws(() => filterFlag(parseFlags(['--filter', 'foo'], PRUNE), PRUNE), /invalid argument "foo" for "--filter" flag/);
});
