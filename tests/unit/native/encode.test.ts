import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePlan } from '../../../src/native/encode.js';
import { decodeErrorRecord, ERROR_RECORD_SIZE, toBrigError } from '../../../src/native/errors.js';
import { op } from '../../../src/runtime/plan/ops.js';

test('the wire header and one op of each argument kind', () => {
  const bytes = encodePlan({
    version: 1,
    meta: { rootfs: '/r', preserveFds: 0 },
    ops: [
      op('exec', 'process.args', { candidates: ['/bin/a'], argv: ['a', 'b'], envp: [] }),
      op('umask', 'u', { mask: 0o22 }),
    ],
  });
  const dv = new DataView(bytes.buffer);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'BRIGPLAN');
  assert.equal(dv.getUint32(8, true), 1);
  assert.equal(dv.getUint32(12, true), 2);
  assert.equal(dv.getUint32(16, true), 60); // exec
  assert.equal(dv.getUint32(20, true), 3); // three arguments
  assert.equal(bytes[24], 3); // a string list
  assert.equal(dv.getUint32(25, true), 1); // one candidate
  assert.equal(dv.getUint32(29, true), 7); // "/bin/a" + NUL
  assert.equal(bytes[29 + 4 + 6], 0);
});

test('NUL bytes in strings are refused before reaching C', () => {
  assert.throws(() =>
    encodePlan({
      version: 1,
      meta: { rootfs: '/', preserveFds: 0 },
      ops: [op('chdir', 'process.cwd', { path: 'a\0b' })],
    }),
  );
});

test('an error record becomes a message naming the field, syscall and errno', () => {
  const buf = new Uint8Array(ERROR_RECORD_SIZE);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, 1, true);
  dv.setInt32(4, 2, true);
  buf.set(new TextEncoder().encode('open_tree'), 8);
  buf.set(new TextEncoder().encode('/src'), 40);
  buf.set(new TextEncoder().encode('/dst'), 552);
  const rec = decodeErrorRecord(buf);
  const err = toBrigError(rec, [
    op('umask', 'x', { mask: 0 }),
    op('mount_bind', 'mounts[4]', {
      source: '/src',
      dest: '/dst',
      recursive: 1,
      attrs: 0,
      attrs_clr: 0,
      rec_attrs: 0,
      rec_attrs_clr: 0,
      propagation: 0,
    }),
  ]);
  assert.equal(
    err.message,
    'mounts[4]: bind mount of /src on /dst failed: open_tree /src -> /dst: no such file or directory (ENOENT)',
  );
  assert.equal(err.field, 'mounts[4]');
  assert.equal(err.errnoName, 'ENOENT');
  assert.match(err.hint ?? '', /check that \/src exists/);
});

test('a hook that ran and failed in the container is worded like the runtime-namespace hooks', () => {
  const record = (errno: number, detail: string) => {
    const buf = new Uint8Array(ERROR_RECORD_SIZE);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, 0, true);
    dv.setInt32(4, errno, true);
    buf.set(new TextEncoder().encode('hook'), 8);
    buf.set(new TextEncoder().encode('/bin/sh'), 40);
    buf.set(new TextEncoder().encode(detail), 1064);
    return decodeErrorRecord(buf);
  };
  const ops = [op('hook', 'hooks.startContainer[0]', { path: '/bin/sh', args: ['sh'], env: [], timeout_ms: 2000 })];
  const failed = toBrigError(record(10, 'exit status 3'), ops);
  assert.equal(failed.message, 'hooks.startContainer[0]: /bin/sh failed (exit status 3)');
  assert.equal(failed.code, 'HOOK_FAILED');
  assert.equal(failed.field, 'hooks.startContainer[0]');
  assert.equal(toBrigError(record(110, 'timed out'), ops).message, 'hooks.startContainer[0]: /bin/sh failed (timed out after 2s)');
});

