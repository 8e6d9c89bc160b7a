/**
 * process.terminal with --console-socket: the pty master reaches whoever listens on the
 * socket (as conmon and containerd's shim do with runc), the program's stdio is the pty,
 * it is the controlling terminal, and consoleSize sets the window.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brigRuntime, leftovers, makeBundle } from '../../support/bundle.js';
import { requires } from '../../support/requires.js';

const skip = requires('root', 'helper', 'busybox');

// python3 receives SCM_RIGHTS fds (Node's net cannot); it relays the pty's output.
const AGENT = `
import socket, sys, os, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
master = fds[0]
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
print(json.dumps({"name": msg.decode(), "fd": os.readlink("/proc/self/fd/%d" % master), "out": out.decode()}), flush=True)
`;

async function withAgent(fn: (sock: string) => Promise<void> | void): Promise<{ name: string; fd: string; out: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'brig-console-'));
  const sock = path.join(dir, 'console.sock');
  writeFileSync(path.join(dir, 'agent.py'), AGENT);
  const agent = spawn('python3', [path.join(dir, 'agent.py'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  agent.stdout.on('data', (d) => (out += d));
  try {
    for (let i = 0; i < 100 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 20));
    await fn(sock);
    await new Promise((r) => agent.once('close', r));
    return JSON.parse(out.split('\n')[1]!);
  } finally {
    agent.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('run with a terminal: the master goes to the console socket, the pty is stdio and controlling tty', { skip }, async () => {
  const b = makeBundle(['sh', '-c', 'tty; stty size; [ -t 0 ] && echo stdin-is-tty; echo done'], (s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { height: 30, width: 100 };
  });
  try {
    const got = await withAgent((sock) => {
      const r = brigRuntime(b, ['run', '--console-socket', sock, 'tty1']);
      assert.equal(r.code, 0, r.stderr);
    });
    assert.match(got.name, /^\/dev\/pts\/\d+$/);
    assert.match(got.fd, /ptmx$/); // the container's devpts, seen from outside
    const lines = got.out.replace(/\r/g, '').split('\n');
    assert.match(lines[0]!, /^\/dev\/pts\/\d+$/);
    assert.equal(lines[1], '30 100');
    assert.equal(lines[2], 'stdin-is-tty');
    assert.equal(lines[3], 'done');
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('without --console-socket a foreground run relays its pty; create is a clear error', { skip }, () => {
  const b = makeBundle(['sh', '-c', 'tty; echo relayed'], (s) => {
    s.process!.terminal = true;
  });
  try {
    // stdin is a pipe here, not a terminal: relayed as it is, nothing put in raw mode.
    const r = brigRuntime(b, ['run', 'tty2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.replace(/\r/g, ''), /^\/dev\/pts\/\d+\nrelayed\n$/m);
    const c = brigRuntime(b, ['create', 'tty3']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /^brig-runtime: process\.terminal: a detached process with a terminal needs --console-socket/);
    assert.deepEqual(leftovers(b), []);
  } finally {
    b.cleanup();
  }
});

test('exec --tty --console-socket gives the new process its own pty', { skip }, async () => {
  const b = makeBundle(['sleep', '30']);
  try {
    assert.equal(brigRuntime(b, ['run', '-d', 'tty3']).code, 0);
    const got = await withAgent((sock) => {
      const r = brigRuntime(b, ['exec', '--tty', '--console-socket', sock, 'tty3', 'sh', '-c', 'tty; echo exec-done']);
      assert.equal(r.code, 0, r.stderr);
    });
    assert.match(got.out.replace(/\r/g, ''), /^\/dev\/pts\/\d+\nexec-done\n/);
  } finally {
    brigRuntime(b, ['delete', '--force', 'tty3']);
    b.cleanup();
  }
});
