/**
 * `brig completion bash|zsh|fish` through the real binary, run by the real shells: command
 * names, group verbs, a verb's flags (the same table --help prints), and container names
 * from the engine. zsh's completion system is driven with its builtins stubbed to print
 * what they are given; fish answers `complete -C` itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { requires } from '../support/requires.js';

const root = mkdtempSync(path.join(tmpdir(), 'brig-completion-'));
const { env, ok, brig } = brigCli(path.join(root, 'data'));
// The scripts call `brig` by name, as an installed one would be.
const bin = path.join(root, 'bin');
mkdirSync(bin);
symlinkSync(BRIG, path.join(bin, 'brig'));
const shellEnv = { ...env, PATH: `${bin}:${process.env.PATH}` };
const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
const skipRoot = requires('root', 'helper');

after(() => {
  if (!skipRoot) brig(['rm', '-f', 'completion-target']);
  rmSync(root, { recursive: true, force: true });
});

function script(shell: string): string {
  const file = path.join(root, `brig.${shell}`);
  writeFileSync(file, ok(['completion', shell]));
  return file;
}

/** bash: COMPREPLY for a command line ending where the cursor is. */
function bashComplete(line: string): string[] {
  const words = line.split(' ');
  const r = spawnSync('bash', ['-c', `source ${script('bash')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _brig; printf '%s\\n' "\${COMPREPLY[@]}"`], { env: shellEnv, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash: commands, group verbs, flags from the verb table, container names from the engine', { skip: requires('root', 'helper') }, () => {
  assert.ok(bashComplete('brig ru').includes('run'));
  assert.deepEqual(bashComplete('brig container ren'), ['rename']);
  const flags = bashComplete('brig run --');
  for (const f of ['--name', '--memory', '--cap-add', '--security-opt', '--help']) assert.ok(flags.includes(f), f);
  assert.deepEqual(bashComplete('brig logs --fol'), ['--follow']);
  if (brig(['inspect', 'completion-target']).code !== 0) ok(['create', '--name', 'completion-target', 'host', 'true']);
  assert.deepEqual(bashComplete('brig start completion-t'), ['completion-target']);
  assert.deepEqual(bashComplete('brig container rm completion-t'), ['completion-target']);
});

test('zsh: the same answers through _describe and compadd', { skip: requires('root', 'helper') || (!has('zsh') && 'zsh is not installed (apt-get install zsh)') }, () => {
  const stubs = 'compdef() { :; }; _describe() { local n=$2; print -l -- ${(P)n}; }; compadd() { shift; print -l -- "$@"; }';
  const complete = (line: string) => {
    const words = line.split(' ');
    const r = spawnSync('zsh', ['-c', `${stubs}; source ${script('zsh')}; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'; _brig`], { env: shellEnv, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.ok(complete('brig ').some((l) => l.startsWith('run:Create and run a new container')));
  assert.ok(complete('brig image ').some((l) => l.startsWith('prune:')));
  assert.ok(complete('brig exec --').includes('--interactive'));
  if (brig(['inspect', 'completion-target']).code !== 0) ok(['create', '--name', 'completion-target', 'host', 'true']);
  assert.ok(complete('brig stop ').includes('completion-target'));
});

test('fish: complete -C answers with commands, descriptions and flags', { skip: !has('fish') && 'fish is not installed (apt-get install fish)' }, () => {
  const complete = (line: string) => {
    const r = spawnSync('fish', ['-c', `source ${script('fish')}; complete -C '${line}'`], { env: shellEnv, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.ok(complete('brig ru').some((l) => l.startsWith('run\tCreate and run a new container')));
  assert.ok(complete('brig run --mem').some((l) => l.startsWith('--memory\t')));
  assert.deepEqual(complete('brig container ren').map((l) => l.split('\t')[0]), ['rename']);
});

test('an unknown shell is refused', () => {
  const r = spawnSync(BRIG, ['completion', 'tcsh'], { env, encoding: 'utf8' });
  assert.equal(r.status, 125);
  assert.match(r.stderr, /unsupported shell type "tcsh"/);
});
