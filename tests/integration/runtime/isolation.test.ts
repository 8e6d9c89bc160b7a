/**
 * What a container sees of the system: its own pid 1, only its processes, only `lo`, its
 * hostname. Checked from inside with busybox.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runIn } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

test('the user program is pid 1 and sees only the container processes', { skip }, () => {
  const r = runIn(['sh', '-c', 'echo pid=$$; ps -o pid,comm; true']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^pid=1$/m);
  const rows = r.stdout.split('\n').slice(2).filter(Boolean);
  // sh (pid 1) and ps itself, nothing else
  assert.equal(rows.length, 2, r.stdout);
  assert.deepEqual(r.leftovers, []);
});

test('a new network namespace has only lo, and it is up (as runc brings it)', { skip }, () => {
  const r = runIn(['sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/flags']);
  assert.equal(r.code, 0, r.stderr);
  const [names, flags] = r.stdout.trim().split('\n');
  assert.equal(names, 'lo');
  assert.equal(Number(flags) & 1, 1, 'IFF_UP');
});

test('hostname and domainname are the config values', { skip }, () => {
  const r = runIn(['sh', '-c', 'hostname; cat /proc/sys/kernel/domainname'], (s) => {
    s.hostname = 'box-one';
    s.domainname = 'example.test';
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'box-one\nexample.test\n');
});

test('the exit code of the user program is the exit code of run', { skip }, () => {
  assert.equal(runIn(['sh', '-c', 'exit 7']).code, 7);
});
