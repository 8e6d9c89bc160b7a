/** The Dockerfile parser: directives, continuations, comments, heredocs, flags, errors with lines. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrigError } from '../../../src/errors/index.js';
import { execForm, flagMap, heredocMarkers, nameValues, parseDockerfile } from '../../../src/build/parser.js';
import { automaticArgs, planStages, stageRef, targetStage } from '../../../src/build/stages.js';

const kw = (text: string) => parseDockerfile(text).instructions.map((i) => `${i.keyword}@${i.line}:${i.rest}`);

function parseFails(text: string, re: RegExp): void {
  assert.throws(() => parseDockerfile(text), (e: BrigError) => e.code === 'DOCKERFILE_PARSE' && re.test(e.message));
}

test('directives only at the top, each once; escape changes the continuation character', () => {
  const df = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM x\nRUN echo a `\n  b\n');
  assert.deepEqual(df.directives, { syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=all' });
  assert.equal(df.escape, '`');
  assert.equal(df.instructions[1]!.rest, 'echo a   b');
  // After a comment, an instruction or a blank line it is a comment.
  assert.deepEqual(parseDockerfile('# a comment\n# escape=`\nFROM x\nRUN a \\\n b\n').escape, '\\');
  assert.deepEqual(parseDockerfile('\n# escape=`\nFROM x\n').directives, {});
  parseFails('# escape=`\n# escape=\\\nFROM x\n', /line 2: only one escape parser directive/);
  parseFails('# escape=x\nFROM x\n', /invalid escape token 'x'/);
});

test('continuations skip comment and blank lines; keywords are case-insensitive', () => {
  assert.deepEqual(kw('from x\nrun echo a \\\n# comment inside\n\n   && echo b\ncmd ["a"]\n'), ['FROM@1:x', 'RUN@2:echo a    && echo b', 'CMD@6:["a"]']);
  // `#` in the middle of a line is not a comment.
  assert.deepEqual(kw('FROM x\nRUN echo a # not a comment\n'), ['FROM@1:x', 'RUN@2:echo a # not a comment']);
  // CRLF and a trailing continuation at the end of the file.
  assert.deepEqual(kw('FROM x\r\nRUN a \\\r\n'), ['FROM@1:x', 'RUN@2:a']);
});

test('flags are the leading --words; unknown ones are refused per instruction, with the line', () => {
  const df = parseDockerfile('FROM x\nCOPY --from=build --chown="a:b" --link src dst\n');
  const ins = df.instructions[1]!;
  assert.deepEqual(ins.flags, ['--from=build', '--chown="a:b"', '--link']);
  assert.equal(ins.rest, 'src dst');
  const f = flagMap(ins, ['from', 'chown', 'link']);
  assert.deepEqual([...f], [['from', ['build']], ['chown', ['a:b']], ['link', ['true']]]);
  assert.throws(() => flagMap(ins, ['from']), /line 2: unknown flag: --chown/);
});

test('heredocs: bodies are raw lines up to the word; <<- strips tabs; quoting turns expansion off', () => {
  const df = parseDockerfile('FROM x\nRUN <<EOF\necho $HOME\n  # kept\n\nEOF\nCOPY <<-"A" <<B /dst/\n\tone\n\tA\ntwo\nB\nRUN echo done\n');
  const [, run, copy, last] = df.instructions;
  assert.deepEqual(run!.heredocs, [{ name: 'EOF', content: 'echo $HOME\n  # kept\n\n', expand: true }]);
  assert.deepEqual(copy!.heredocs, [
    { name: 'A', content: 'one\n', expand: false },
    { name: 'B', content: 'two\n', expand: true },
  ]);
  assert.equal(last!.line, 12);
  parseFails('FROM x\nRUN <<EOF\necho\n', /line 2: unterminated heredoc EOF/);
  // Not a heredoc: quoted, or the exec form, or an instruction that takes none.
  assert.deepEqual(heredocMarkers("echo '<<EOF'"), []);
  assert.equal(parseDockerfile('FROM x\nRUN ["cat", "<<EOF"]\n').instructions[1]!.heredocs.length, 0);
  assert.deepEqual(heredocMarkers('cat <<EOF > /x && python3 <<-\'PY\''), [
    { name: 'EOF', chomp: false, expand: true },
    { name: 'PY', chomp: true, expand: false },
  ]);
});

test('errors name the line: unknown instruction, empty file, missing arguments', () => {
  parseFails('FROM x\n\nFOO bar\n', /dockerfile parse error on line 3: unknown instruction: FOO/);
  parseFails('FROM x\nRUN\n', /line 2: RUN requires at least one argument/);
  assert.throws(() => parseDockerfile('# only a comment\n\n'), /cannot be empty/);
});

test('exec form is a JSON array of strings; anything else is the shell form', () => {
  assert.deepEqual(execForm('["a", "b c"]'), ['a', 'b c']);
  assert.equal(execForm('[not json]'), undefined);
  assert.equal(execForm('[1, 2]'), undefined);
  assert.equal(execForm('echo [x]'), undefined);
});

test('ENV and LABEL: name=value pairs with quotes, or the legacy one pair', () => {
  const one = (t: string) => nameValues(parseDockerfile(`FROM x\n${t}\n`).instructions[1]!, '\\');
  assert.deepEqual(one('ENV A=1 B="two words" C=a\\ b'), [['A', '1'], ['B', '"two words"'], ['C', 'a\\ b']]);
  assert.deepEqual(one('ENV NAME the rest of it'), [['NAME', 'the rest of it']]);
  assert.deepEqual(one('LABEL "com.example.x"="y"'), [['"com.example.x"', '"y"']]);
  assert.throws(() => one('ENV A=1 B'), /line 2: Syntax error - can't find = in "B"/);
  assert.throws(() => one('ENV =x'), /line 2: ENV names can not be blank/);
});

test('stages: global args expand FROM, names are checked, the target reaches what it names', () => {
  const df = parseDockerfile('ARG BASE=busybox\nARG TAG\nFROM $BASE:${TAG:-1} AS Build\nRUN x\nFROM build\nCOPY --from=0 /a /b\nFROM scratch AS other\n');
  const plan = planStages(df, new Map([['TAG', '2']]), new Map());
  assert.deepEqual(plan.stages.map((s) => [s.name, s.base]), [['build', 'busybox:2'], [undefined, 'build'], ['other', 'scratch']]);
  assert.equal(stageRef(plan.stages, 'BUILD', 1)?.index, 0);
  assert.equal(stageRef(plan.stages, '0', 1)?.index, 0);
  // A stage can only name stages before it.
  assert.equal(stageRef(plan.stages, 'other', 1), undefined);
  assert.equal(targetStage(plan, undefined).name, 'other');
  assert.equal(targetStage(plan, 'build').index, 0);
  assert.throws(() => targetStage(plan, 'nope'), /target stage "nope" could not be found/);
  assert.throws(() => planStages(parseDockerfile('FROM a AS 1x\n'), new Map(), new Map()), /line 1: invalid name for build stage/);
  assert.throws(() => planStages(parseDockerfile('FROM a AS x\nFROM b AS x\n'), new Map(), new Map()), /line 2: duplicate stage name "x"/);
  assert.throws(() => planStages(parseDockerfile('RUN x\nFROM a\n'), new Map(), new Map()), /line 1: no build stage/);
  assert.throws(() => planStages(parseDockerfile('FROM a b\n'), new Map(), new Map()), /line 1: FROM requires either one or three arguments/);
});

test('expansion errors name the instruction\'s line: missing }, an unclosed quote, ${V:?msg}', () => {
  const plan = (text: string) => planStages(parseDockerfile(text), new Map(), new Map());
  assert.throws(() => plan('ARG A\nFROM a:${A\n'), /dockerfile parse error on line 2: syntax error: missing '\}'/);
  assert.throws(() => plan('ARG A=1\n\nFROM "a\n'), /dockerfile parse error on line 3: unexpected end of statement while looking for matching double-quote/);
  assert.throws(() => plan('ARG A="x\nFROM a\n'), /dockerfile parse error on line 1: unexpected end of statement/);
  assert.throws(() => plan('ARG V\nFROM a:${V:?must be set}\n'), /dockerfile parse error on line 2: V: must be set/);
  // An error that already names its line is kept as it is.
  assert.throws(() => plan('FROM a AS 1x\n'), (e: BrigError) => e.message === 'dockerfile parse error on line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
});

test('automatic platform args: BUILD* are the build host\'s, TARGET* the requested platform\'s', () => {
  const m = automaticArgs({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(Object.fromEntries(m), {
    BUILDPLATFORM: 'linux/amd64', BUILDOS: 'linux', BUILDARCH: 'amd64', BUILDVARIANT: '',
    TARGETPLATFORM: 'linux/arm64/v8', TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: 'v8',
  });
});
