/**
 * brig login / logout through the real bin/brig against docker-registry on 127.0.0.1 with
 * htpasswd (Basic) auth and with a token server (Bearer): the registry is asked before
 * anything is stored; credentials land where docker keeps them ($DOCKER_CONFIG/config.json
 * `auths`, base64, 0600, other keys kept) or go through a credential helper (a fake
 * docker-credential-* script written here: credsStore and credHelpers, its store / get /
 * erase protocol); pulls and pushes then use them; logout erases. docker's messages, exit
 * codes, and nothing stored on a failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { busyboxLayer, dockerArchive } from '../support/image-archive.js';
import { htpasswdMissing, registryMissing, startRegistry, type TestRegistry } from '../support/image-registry.js';
import { startTokenServer, type TokenServer } from '../support/image-token-server.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'busybox');
const regSkip = skip || registryMissing() || htpasswdMissing();
const root = mkdtempSync(path.join(tmpdir(), 'brig-login-'));
const config = path.join(root, 'docker');
const helpers = path.join(root, 'bin');
const helperStore = path.join(root, 'helper-store');
const { env, brig, ok } = brigCli(path.join(root, 'data'), {
  DOCKER_CONFIG: config,
  PATH: `${helpers}:${process.env.PATH}`,
  FAKE_STORE: helperStore,
});
const DRIVER = path.join(repoRoot, 'tests', 'support', 'pty-driver.py');
after(() => rmSync(root, { recursive: true, force: true }));

const configFile = path.join(config, 'config.json');
const readConfig = () => JSON.parse(readTextSync(configFile)) as { auths?: Record<string, { auth?: string }>; [k: string]: unknown };
const base64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * docker-credential-fake: one file per server under $FAKE_STORE, holding what `store` got;
 * `get` answers it, `erase` removes it, "credentials not found" (exit 1) otherwise. With
 * $FAKE_FAIL set, store fails as a locked keychain would.
 */
function writeHelper(): void {
  mkdirSync(helpers, { recursive: true });
  const file = path.join(helpers, 'docker-credential-fake');
  writeFileSync(
    file,
    `#!/bin/sh
store=\${FAKE_STORE:?}
mkdir -p "$store"
key() { printf '%s' "$1" | tr '/:' '__'; }
case $1 in
store)
  [ -n "$FAKE_FAIL" ] && { echo "keychain is locked"; exit 1; }
  in=$(cat)
  url=$(printf '%s' "$in" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
  printf '%s' "$in" > "$store/$(key "$url")" ;;
get)
  read -r url
  if [ -f "$store/$(key "$url")" ]; then cat "$store/$(key "$url")"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase)
  read -r url
  if [ -f "$store/$(key "$url")" ]; then rm "$store/$(key "$url")"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*) exit 1 ;;
esac
`,
  );
  chmodSync(file, 0o755);
}

describe('login against a registry with htpasswd (Basic) auth', { skip: regSkip }, () => {
  let reg: TestRegistry;
  let host = '';
  before(async () => {
    reg = await startRegistry({ user: 'alice', password: 's3cret' });
    host = reg.host;
    writeHelper();
    const archive = path.join(root, 'bb.tar');
    writeFileSync(archive, dockerArchive([{ tags: ['bb:1'], layers: [busyboxLayer()] }]));
    ok(['load', '-i', archive]);
    ok(['tag', 'bb:1', `${host}/private/bb:1`]);
  });
  after(async () => reg?.stop());

  test('a wrong password is refused by the registry: exit 1, docker\'s words, nothing stored', () => {
    const r = brig(['login', '-u', 'alice', '-p', 'wrong', host]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `WARNING! Using --password via the CLI is insecure. Use --password-stdin.\nError response from daemon: login attempt to http://${host}/v2/ failed with status: 401 Unauthorized\n`,
    );
    assert.equal(existsSync(configFile), false);
  });

  test('-u/-p: checked, then stored base64 in auths, 0600, written atomically, other keys kept', () => {
    mkdirSync(config, { recursive: true });
    writeFileSync(configFile, JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'other.example': { auth: base64('o:p') } } }), { mode: 0o644 });
    const r = brig(['login', '-u', 'alice', '-p', 's3cret', host]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    assert.match(r.stderr, /^WARNING! Using --password via the CLI is insecure\. Use --password-stdin\.\n\nWARNING! Your credentials are stored unencrypted in '.*config\.json'\./);
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    const c = readConfig();
    assert.equal(c.psFormat, 'table {{.ID}}');
    assert.deepEqual(c.auths, { 'other.example': { auth: base64('o:p') }, [host]: { auth: base64('alice:s3cret') } });
    assert.match(readTextSync(configFile), /^{\n\t"psFormat"/);
    assert.deepEqual(readdirSync(config), ['config.json'], 'no temporary file left');
    // The same again: nothing changes, no warning (docker writes only what changed).
    const again = brig(['login', '-u', 'alice', '--password-stdin', host], 's3cret\n');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '');
  });

  test('stored credentials: login without -u tries them; push and pull use them; logout erases them', () => {
    const stored = brig(['login', host]);
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(stored.stdout, 'Login Succeeded\n');
    assert.match(stored.stderr, /^Authenticating with existing credentials\.\.\. \[Username: alice\]\n/);
    const ref = `${host}/private/bb:1`;
    ok(['push', ref]);
    ok(['rmi', ref]);
    assert.match(ok(['pull', ref]), /Status: Downloaded newer image/);
    assert.equal(ok(['logout', host]), `Removing login credentials for ${host}\n`);
    assert.deepEqual(readConfig().auths, { 'other.example': { auth: base64('o:p') } });
    const push = brig(['push', ref]);
    assert.equal(push.code, 1);
    assert.match(push.stderr, /^Error response from daemon: .*authentication required/m);
    ok(['rmi', ref]);
    const anonymous = brig(['pull', ref]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /^Error response from daemon: .*authentication required/m);
    // Logging out again is no error, as docker's.
    assert.equal(brig(['logout', `http://${host}/`]).code, 0);
  });

  test("no terminal and nothing stored: docker's refusal; the flags' conflicts", () => {
    const cases: [string[], string][] = [
      [['login', host], 'Error: Cannot perform an interactive login from a non TTY device\n'],
      [['login', '-u', 'alice', host], 'Error: Cannot perform an interactive login from a non TTY device\n'],
      [['login', '--password-stdin', host], 'the --password-stdin option requires --username to be set\n'],
      [['login', '-u', 'alice', '-p', 'x', '--password-stdin', host], 'conflicting options: cannot specify both --password and --password-stdin\n'],
      [['login', '-u', '', host], 'username is empty\n'],
      [['login', '-u', 'alice', '-p', '', host], 'password is empty\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = brig(args, '');
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, stderr, args.join(' '));
    }
    const extra = brig(['login', host, 'another']);
    assert.equal(extra.code, 125);
    assert.match(extra.stderr, /"brig login" requires at most 1 argument/);
    assert.equal(readConfig().auths?.[host], undefined);
  });

  test('on a terminal: prompts for the user name and, without echo, the password', { skip: requires('python3') }, () => {
    const steps = [{ expect: 'Username: ' }, { send: 'alice\n' }, { expect: 'Password: ' }, { send: 's3cret\n' }, { expect: 'Login Succeeded' }];
    const r = spawnSync('python3', [DRIVER, JSON.stringify(steps), BRIG, 'login', host], { env, encoding: 'utf8', timeout: 60_000 });
    const res = JSON.parse(r.stdout) as { out: string; status: number; failed: string | null; icanon: boolean };
    assert.equal(res.failed, null, res.out);
    assert.equal(res.status, 0, res.out);
    assert.doesNotMatch(res.out, /s3cret/, 'the password is not echoed');
    assert.equal(res.icanon, true, 'the terminal is canonical again');
    assert.equal(readConfig().auths?.[host]?.auth, base64('alice:s3cret'));
    ok(['logout', host]);
  });

  test('credsStore: the helper stores, answers pulls and erases; the file keeps an empty entry', () => {
    writeFileSync(configFile, JSON.stringify({ credsStore: 'fake' }));
    const r = brig(['login', '-u', 'alice', '--password-stdin', host], 's3cret');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no warning: nothing in plain text');
    assert.deepEqual(JSON.parse(readTextSync(path.join(helperStore, host.replace(':', '_')))), { ServerURL: host, Username: 'alice', Secret: 's3cret' });
    assert.deepEqual(readConfig().auths, { [host]: {} });
    const ref = `${host}/private/bb:1`;
    assert.match(ok(['pull', ref]), /Status: /);
    ok(['logout', host]);
    assert.deepEqual(readdirSync(helperStore), []);
    assert.deepEqual(readConfig().auths, {});
  });

  test("credHelpers for the host; a helper that fails: docker's error, nothing stored", () => {
    writeFileSync(configFile, JSON.stringify({ credHelpers: { [host]: 'fake' } }));
    ok(['login', '-u', 'alice', '--password-stdin', host], 's3cret');
    assert.ok(existsSync(path.join(helperStore, host.replace(':', '_'))));
    ok(['logout', host]);
    const failing = spawnSync(BRIG, ['login', '-u', 'alice', '--password-stdin', host], { env: { ...env, FAKE_FAIL: '1' }, input: 's3cret', encoding: 'utf8' });
    assert.equal(failing.status, 1);
    assert.match(failing.stderr, /^Error saving credentials: error storing credentials - err: exit status 1, out: `keychain is locked`$/m);
    assert.deepEqual(readdirSync(helperStore), []);
    assert.deepEqual(readConfig().auths ?? {}, {});
    writeFileSync(configFile, JSON.stringify({ credsStore: 'nosuchhelper' }));
    const noHelper = brig(['login', '-u', 'alice', '--password-stdin', host], 's3cret');
    assert.equal(noHelper.code, 1);
    assert.match(noHelper.stderr, /docker-credential-nosuchhelper is not installed/);
  });
});

describe('login against a registry with token (Bearer) auth', { skip: regSkip || (existsSync('/usr/bin/openssl') ? false : 'openssl not installed') }, () => {
  let reg: TestRegistry;
  let tokens: TokenServer;
  before(async () => {
    tokens = await startTokenServer(root, { bob: { password: 'b-secret' } });
    reg = await startRegistry({ token: tokens });
    rmSync(configFile, { force: true });
  });
  after(async () => {
    await reg?.stop();
    await tokens?.stop();
  });

  // The token server runs in this process: brig must run beside it, not block it.
  const brigAsync = (args: string[], input: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(BRIG, args, { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });

  test('the realm gives a token for good credentials only', async () => {
    const bad = await brigAsync(['login', '-u', 'bob', '--password-stdin', reg.host], 'nope');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`^Error response from daemon: Get "http://${reg.host}/v2/": unauthorized: incorrect username or password$`, 'm'));
    assert.equal(existsSync(configFile), false);
    const good = await brigAsync(['login', '-u', 'bob', '--password-stdin', reg.host], 'b-secret');
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout, 'Login Succeeded\n');
    assert.equal(readConfig().auths?.[reg.host]?.auth, base64('bob:b-secret'));
    assert.ok(tokens.requests.some((q) => q.user === 'bob'));
  });
});
