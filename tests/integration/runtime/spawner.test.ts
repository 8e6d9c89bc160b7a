/**
 * brig-spawner (native/spawn/spawner.c) and its client (src/native/spawner.ts), over two
 * FIFOs as brig's launcher gives them pipes: a tool's stdout as it comes, its stderr and exit
 * status; requests side by side, each answered by its id; only programs in its directory;
 * a signal's death as 128+n; EOF ends it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, constants as fsConstants } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Spawner } from '../../../src/native/spawner.js';
import { locateNative } from '../../../src/native/locate.js';
import { requires } from '../../support/requires.js';

const SPAWNER = locateNative('brig-spawner', import.meta.url);
const skip = requires('helper');
const dir = mkdtempSync(path.join(tmpdir(), 'brig-spawner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tool(name: string, script: string): string {
  const file = path.join(dir, 'tools', name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** A spawner on two FIFOs, and the client on their other ends. */
function start(): { spawner: Spawner; child: ReturnType<typeof spawn>; close: () => void } {
  const req = path.join(dir, `req-${Math.random()}`);
  const rep = path.join(dir, `rep-${Math.random()}`);
  assert.equal(spawnSync('mkfifo', [req, rep]).status, 0);
  // Our ends first, O_RDWR (such an open does not wait for the other side); the spawner's
  // then open at once, and only for its direction, as a pipe's: EOF reaches it when `to` closes.
  const to = openSync(req, fsConstants.O_RDWR);
  const from = openSync(rep, fsConstants.O_RDWR);
  const reqR = openSync(req, fsConstants.O_RDONLY);
  const repW = openSync(rep, fsConstants.O_WRONLY);
  const child = spawn(SPAWNER, [path.join(dir, 'tools')], { stdio: [reqR, repW, 'inherit'] });
  closeSync(reqR);
  closeSync(repW);
  return {
    spawner: new Spawner(child.pid!, to, from),
    child,
    close: () => {
      closeSync(to);
      closeSync(from);
    },
  };
}

test("a tool's stdout chunk by chunk, its stderr and its exit status", { skip }, async () => {
  const t = tool('talk', 'echo one; sleep 0.1; echo two; echo oops >&2; exit 3');
  const { spawner, child, close } = start();
  const chunks: string[] = [];
  const r = await spawner.run([t, 'x'], (c) => chunks.push(c.toString()));
  assert.equal(r.status, 3);
  assert.equal(r.stderr, 'oops\n');
  assert.equal(chunks.join(''), 'one\ntwo\n');
  assert.ok(chunks.length >= 2, 'the first line came before the tool ended');
  // Arguments arrive as given.
  const args = tool('args', 'printf "%s|" "$@"');
  let out = '';
  assert.equal((await spawner.run([args, 'a b', 'c=d\x1fe'], (c) => (out += c.toString()))).status, 0);
  assert.equal(out, 'a b|c=d\x1fe|');
  close();
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(child.exitCode, 0, 'EOF ends it');
});

test('requests run side by side: a quick one is answered while a slow one runs', { skip }, async () => {
  const slow = tool('slow', 'sleep 0.5; echo slow');
  const quick = tool('quick', 'echo quick');
  const { spawner, close } = start();
  const order: string[] = [];
  const a = spawner.run([slow]).then(() => order.push('slow'));
  const b = spawner.run([quick]).then(() => order.push('quick'));
  await Promise.all([a, b]);
  assert.deepEqual(order, ['quick', 'slow']);
  close();
});

test('only programs in its directory; a death by signal is 128+n', { skip }, async () => {
  const { spawner, close } = start();
  for (const outside of ['/bin/true', path.join(dir, 'tools', '..', 'x'), path.join(dir, 'tools', 'sub', 'x')]) {
    const r = await spawner.run([outside]);
    assert.ok(r.status < 0, outside);
    assert.match(r.stderr, /not one of brig's tools/);
  }
  const killed = tool('killed', 'kill -TERM $$');
  assert.equal((await spawner.run([killed])).status, 128 + 15);
  const missing = await spawner.run([path.join(dir, 'tools', 'missing')]);
  assert.equal(missing.status, 127);
  close();
});
