import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrigError, BrigSystemError, ErrorCodes, hasErrno } from '../../src/errors/index.js';

test('BrigError carries a registered code, field and hint', () => {
  const e = new BrigError('INVALID_CONFIG', 'process.args: must not be empty', {
    field: 'process.args',
    hint: 'give the program to run',
  });
  assert.ok(e.code in ErrorCodes);
  assert.equal(e.field, 'process.args');
  assert.deepEqual(e.toJSON().hint, 'give the program to run');
});

test('BrigSystemError looks like a Node SystemError', () => {
  const e = new BrigSystemError('mount failed', {
    syscall: 'mount',
    errno: 2,
    errnoName: 'ENOENT',
    op: 'mount',
    opIndex: 4,
    path: '/src',
    dest: '/dst',
  });
  assert.equal(e.code, 'SYSTEM');
  assert.equal(e.toJSON().errno, 'ENOENT');
  assert.equal(e.dest, '/dst');
});

test('hasErrno matches only the code asked for', () => {
  assert.equal(hasErrno(Object.assign(new Error('x'), { code: 'ENOENT' }), 'ENOENT'), true);
  assert.equal(hasErrno(Object.assign(new Error('x'), { code: 'EACCES' }), 'ENOENT'), false);
  assert.equal(hasErrno('nope', 'ENOENT'), false);
});
