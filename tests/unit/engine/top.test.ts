/**
 * docker top's parsing of ps (src/engine/containers/top.ts): the container's rows kept,
 * CMD with its spaces, thread lines, -q and the retry without it, docker's errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePsOutput, type PsRunner, psPidsArg, topProcesses, validatePsArgs } from '../../../src/engine/containers/top.js';

const EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 Dec06 ?        00:00:01 /sbin/init
root        4448    4406  0 23:58 ?        00:00:00 sleep 300
root        4450    4448  0 23:58 pts/0    00:00:00 sh -c echo  two   spaces
root        4460       1  0 23:58 ?        00:00:00 other
`;

test('keeps the rows of the given pids; words past the last column join into it', () => {
  const r = parsePsOutput(EF, [4448, 4450]);
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '4448', '4406', '0', '23:58', '?', '00:00:00', 'sleep 300'],
    // As docker: fields are split on white space, so runs of spaces in CMD become one.
    ['root', '4450', '4448', '0', '23:58', 'pts/0', '00:00:00', 'sh -c echo two spaces'],
  ]);
  assert.deepEqual(parsePsOutput(EF, []).Processes, []);
});

test('custom columns: PID anywhere; thread lines ("-") follow their process', () => {
  assert.deepEqual(parsePsOutput('COMMAND   PID\nsleep    4448\nother 9\n', [4448]), { Titles: ['COMMAND', 'PID'], Processes: [['sleep', '4448']] });
  const threads = `  PID   LWP CMD
 4448     - sleep
    -  4448 -
    9     - other
    -     9 -
`;
  assert.deepEqual(parsePsOutput(threads, [4448]).Processes, [
    ['4448', '-', 'sleep'],
    ['-', '4448', '-'],
  ]);
});

test("docker's errors: no PID column, a PID that is not a number, a column renamed PID", () => {
  assert.throws(() => parsePsOutput('COMMAND\nsleep\n', [1]), /^BrigError: Couldn't find PID field in ps output$/);
  assert.throws(() => parsePsOutput('PID CMD\nx sleep\n', [1]), /Unexpected pid 'x': strconv.Atoi: parsing "x": invalid syntax/);
  assert.throws(() => validatePsArgs('-o user=PID'), /^BrigError: specifying "user=PID" is not allowed$/);
  assert.throws(() => validatePsArgs('-o pid,user= PIDX'), /specifying "pid,user=PIDX" is not allowed/);
  validatePsArgs('-o pid=PID');
  validatePsArgs('-ef');
  validatePsArgs('-o user=UID,pid');
});

test('ps runs with -q PIDS first, again without when that fails; a failure names ps', async () => {
  assert.equal(psPidsArg([1, 22, 333]), '-q1,22,333');
  const calls: string[][] = [];
  const refusesQ: PsRunner = async (args) => {
    calls.push(args);
    return args.some((a) => a.startsWith('-q')) ? { ok: false, stderr: 'error: conflicting process selections\n', error: 'exit 1' } : { ok: true, stdout: EF };
  };
  const r = await topProcesses([4448], 'f -e', refusesQ);
  assert.deepEqual(calls, [['f', '-e', '-q4448'], ['f', '-e']]);
  assert.equal(r.Processes.length, 1);
  const fails: PsRunner = async () => ({ ok: false, stderr: 'error: unknown gnu long option\n\nUsage:\n', error: 'exit 1' });
  await assert.rejects(topProcesses([1], '--bogus', fails), /^BrigError: ps: error: unknown gnu long option$/);
  const missing: PsRunner = async () => ({ ok: false, stderr: '', error: 'exec: "ps": executable file not found in $PATH' });
  await assert.rejects(topProcesses([1], '-ef', missing), /ps: exec: "ps": executable file not found in \$PATH/);
});
