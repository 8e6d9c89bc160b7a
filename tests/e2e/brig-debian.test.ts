/**
 * A docker user's workflow on a real Debian userland (tests/support/image-debian.ts: the host's
 * own packages, glibc and all, made into an image in test setup), through the real brig
 * binary, checked from inside the container and from the host: --rm runs of glibc programs,
 * -u with Debian's users and groups, setuid programs with and without no_new_privs, run -d
 * with logs -f, exec (ps, a pty), run -it with resizes, --init, stop escalating to SIGKILL,
 * the container's processes seen from the host, cp, diff, commit, export/import, --read-only,
 * -w, --entrypoint, --env-file, resources in the host's cgroups, and nothing left after rm.
 * Where brig and docker differ, the test is written to docker's behaviour (dockerd 20.10 on
 * the same image) and marked todo with what brig does instead.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BRIG, brigCli } from '../support/brig-cli.js';
import { DEBIAN_PATH, debianArchive, debianSkip, SHADOW_LASTCHG } from '../support/image-debian.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const skip = requires('root', 'helper', 'python3') || debianSkip();
const root = mkdtempSync(path.join(tmpdir(), 'brig-debian-'));
const data = path.join(root, 'data');
const { env, brig, ok, traces } = brigCli(data);
const IMAGE = 'localhost/debian:host';
const DRIVER = path.join(repoRoot, 'tests', 'support', 'pty-driver.py');
/** The date passwd -S and chage print for the image's shadow entries. */
const LASTCHG = new Date(SHADOW_LASTCHG * 86_400_000);
const setup = { buildMs: 0, loadMs: 0, bytes: 0 };

/** A --rm run of a bash script on the image; it must succeed. */
const bash = (flags: string[], script: string, image = IMAGE) => ok(['run', '--rm', ...flags, image, 'bash', '-c', script]);
const state = (name: string) => (JSON.parse(ok(['inspect', name])) as { Id: string; State: { Status: string; ExitCode: number; Pid: number } }[]).map((c) => ({ id: c.Id, ...c.State }))[0]!;

async function until(what: string, fn: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !fn(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

type Step = { size: [number, number] } | { expect: string } | { send: string } | { sleep: number };
/** brig on a pty of its own (tests/support/pty-driver.py plays the user's terminal); what it showed, CRs and escape sequences dropped. */
function onPty(steps: Step[], args: string[]) {
  const r = spawnSync('python3', [DRIVER, JSON.stringify(steps), BRIG, ...args], { env, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, `pty driver: ${r.stderr}`);
  const res = JSON.parse(r.stdout) as { out: string; status: number; icanon: boolean; failed: string | null };
  // eslint-disable-next-line no-control-regex
  return { ...res, out: res.out.replace(/\r|\x1b\[[0-9;?]*[A-Za-z]/g, '') };
}

/** The pids in a container's cgroup, as the host sees them (cgroup v1's pids hierarchy, or v2). */
function hostPids(id: string): number[] {
  const file = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup'].map((h) => `${h}/brig/${id}/cgroup.procs`).find((f) => existsSync(f));
  assert.ok(file, `no cgroup for ${id}`);
  return readTextSync(file).split('\n').filter(Boolean).map(Number);
}

before(() => {
  if (skip) return;
  let t0 = Date.now();
  const archive = debianArchive(IMAGE);
  setup.buildMs = Date.now() - t0;
  setup.bytes = statSync(archive).size;
  t0 = Date.now();
  ok(['load', '-q', '-i', archive]);
  setup.loadMs = Date.now() - t0;
});

after(() => {
  if (!skip) for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  rmSync(root, { recursive: true, force: true });
});

test("the image: Debian's own programs and libraries from the host, accounts, modes and setuid bits; CMD bash reads stdin", { skip }, (t) => {
  t.diagnostic(`archive ${(setup.bytes / 2 ** 20).toFixed(1)} MiB, built or found in ${setup.buildMs} ms, loaded in ${setup.loadMs} ms`);
  assert.ok(setup.buildMs < 60_000, `building the image took ${setup.buildMs} ms`);
  const config = JSON.parse(ok(['image', 'inspect', '-f', '{{json .Config}}', IMAGE])) as { Cmd: string[]; Env: string[] };
  assert.deepEqual([config.Cmd, config.Env], [['bash'], [DEBIAN_PATH]]);
  // No command: the image's CMD, bash, reads the script from stdin (-i).
  const script = [
    'cat /etc/debian_version',
    'bash --version | head -1; ls --version | head -1; grep --version | head -1; ps --version',
    'sha256sum /usr/bin/bash | cut -d" " -f1; getconf GNU_LIBC_VERSION',
    'getent passwd www-data; getent group shadow',
    'stat -c "%A %U:%G %n" /usr/bin/passwd /usr/bin/chage /etc/shadow /etc/gshadow /etc/passwd /tmp /var/tmp /root',
    'readlink /bin /sbin /lib /lib64',
    'ls /usr/share/doc 2>&1 | head -1',
    'echo "HOME=$HOME PATH=$PATH"',
  ].join('\n');
  const r = brig(['run', '--rm', '-i', IMAGE], script);
  assert.equal(r.code, 0, r.stderr);
  const host = (cmd: string) => spawnSync('bash', ['-c', cmd], { encoding: 'utf8' }).stdout;
  const want = [
    readTextSync('/etc/debian_version').trim(),
    host('bash --version | head -1; ls --version | head -1; grep --version | head -1; ps --version').trim(),
    host('sha256sum /usr/bin/bash | cut -d" " -f1; getconf GNU_LIBC_VERSION').trim(),
    'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
    'shadow:x:42:',
    '-rwsr-xr-x root:root /usr/bin/passwd',
    '-rwxr-sr-x root:shadow /usr/bin/chage',
    '-rw-r----- root:shadow /etc/shadow',
    '-rw-r----- root:shadow /etc/gshadow',
    '-rw-r--r-- root:root /etc/passwd',
    'drwxrwxrwt root:root /tmp',
    'drwxrwxrwt root:root /var/tmp',
    'drwx------ root:root /root',
    'usr/bin\nusr/sbin\nusr/lib\nusr/lib64',
    "ls: cannot access '/usr/share/doc': No such file or directory",
    `HOME=/root ${DEBIAN_PATH}`,
  ];
  assert.equal(r.stdout, want.join('\n') + '\n');
});

test("-u with Debian's users and groups: ids, supplementary groups and HOME from /etc/passwd and /etc/group", { skip }, () => {
  assert.equal(bash(['-u', 'www-data'], 'id; echo $HOME; pwd'), 'uid=33(www-data) gid=33(www-data) groups=33(www-data)\n/var/www\n/\n');
  assert.equal(bash(['-u', 'nobody'], 'id; echo $HOME'), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n/nonexistent\n');
  assert.equal(bash(['-u', '33:staff', '--group-add', 'users'], 'id; echo $HOME'), 'uid=33(www-data) gid=50(staff) groups=50(staff),100(users)\n/var/www\n');
  // A uid the image does not name: group root, HOME /, as docker.
  assert.equal(bash(['-u', '1234'], 'id; echo $HOME'), 'uid=1234 gid=0(root) groups=0(root)\n/\n');
});

test('setuid-root passwd and setgid-shadow chage work for www-data (no_new_privs off, as docker); --security-opt no-new-privileges stops both', { skip }, () => {
  const day = LASTCHG.toISOString().slice(0, 10);
  const long = LASTCHG.toLocaleDateString('en-US', { month: 'short', day: '2-digit', year: 'numeric', timeZone: 'UTC' });
  const script = 'grep NoNewPrivs /proc/self/status; passwd -S; chage -l www-data 2>&1 | head -1; echo "chage=${PIPESTATUS[0]}"';
  assert.equal(bash(['-u', 'www-data'], script), `NoNewPrivs:\t0\nwww-data L ${day} 0 99999 7 -1\nLast password change\t\t\t\t\t: ${long}\nchage=0\n`);
  // Without the raised ids passwd cannot read /etc/shadow: it reports the passwd entry's 'x' as P.
  assert.equal(bash(['-u', 'www-data', '--security-opt', 'no-new-privileges'], script), 'NoNewPrivs:\t1\nwww-data P\nchage: cannot open /etc/shadow\nchage=1\n');
});

test('run -d: logs -f follows bash as it writes; exec ps shows only the container\'s processes; the host sees them in its cgroup; stop escalates to SIGKILL (137); rm leaves nothing', { skip }, async () => {
  const loop = 'trap "" TERM; i=0; while [ ! -e /tmp/stop ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done; echo "stopped writing"; while :; do sleep 0.1; done';
  const id = ok(['run', '-d', '--name', 'writer', '-u', 'www-data', IMAGE, 'bash', '-c', loop]).trim();
  const follow = spawn(BRIG, ['logs', '-f', 'writer'], { env });
  let out = '';
  follow.stdout.on('data', (d) => (out += d));
  const followed = new Promise<number | null>((resolve) => follow.on('close', resolve));
  await until('logs -f to show tick 5', () => out.includes('tick 5\n'));
  const running = state('writer');
  assert.equal(running.Status, 'running', 'logs -f showed it while it runs');

  // Inside: pid 1 is bash, its children sleeps, and ps itself; nothing of the host's.
  const ps = ok(['exec', 'writer', 'ps', '-e', '-o', 'pid=,ppid=,user=,comm=']).trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(ps[0], ['1', '0', 'www-data', 'bash']);
  for (const [pid, ppid, user, comm] of ps.slice(1)) {
    assert.equal(user, 'www-data');
    assert.ok((comm === 'sleep' && ppid === '1') || (comm === 'ps' && ppid === '0'), `unexpected process ${pid} ${comm}`);
  }
  // From the host, as docker top does: the container's cgroup holds init (pid 1 inside) and its children, as www-data.
  const init = running.Pid;
  const pids = hostPids(id);
  assert.ok(pids.includes(init), `${init} in ${pids.join(' ')}`);
  assert.match(readTextSync(`/proc/${init}/status`), new RegExp(`^NSpid:\\t${init}\\t1$`, 'm'));
  assert.match(readTextSync(`/proc/${init}/status`), /^Uid:\t33\t33\t33\t33$/m);
  const top = spawnSync('ps', ['-o', 'user=,comm=', '-p', pids.join(',')], { encoding: 'utf8' }).stdout.trim().split('\n');
  for (const row of top) assert.match(row, /^www-data\s+(bash|sleep)$/);
  assert.equal(readTextSync(`/proc/${init}/root/etc/debian_version`), readTextSync('/etc/debian_version'), "the container's root, seen from the host");

  ok(['exec', 'writer', 'touch', '/tmp/stop']);
  await until('the loop to stop writing', () => out.includes('stopped writing\n'));
  const t0 = Date.now();
  assert.equal(ok(['stop', '-t', '1', 'writer']), 'writer\n');
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 10_000, `stop took ${took} ms`);
  const stopped = state('writer');
  assert.deepEqual([stopped.Status, stopped.ExitCode], ['exited', 137]);
  assert.equal(await followed, 0, 'logs -f ends with the container');
  const lines = out.trim().split('\n');
  assert.equal(lines.at(-1), 'stopped writing');
  lines.slice(0, -1).forEach((l, i) => assert.equal(l, `tick ${i}`));
  assert.equal(ok(['logs', 'writer']), out, 'logs afterwards shows the same');
  ok(['rm', 'writer']);
  assert.deepEqual(traces(id), []);
  assert.ok(!pids.some((p) => existsSync(`/proc/${p}`) && readTextSync(`/proc/${p}/cgroup`).includes(id)), 'no process of it is left');
});

test('exec -it bash under a real pty: the prompt, a tty of the caller\'s size, ps on it, the exit code, the terminal restored', { skip }, () => {
  const id = ok(['run', '-d', '--name', 'shell', IMAGE, 'sleep', 'infinity']).trim();
  const r = onPty(
    [{ size: [30, 100] }, { expect: `root@${id.slice(0, 12)}:/tmp# $` }, { send: 'stty size; tty; ps -o tty=,comm=\n' }, { expect: 'ps\r\n' }, { send: 'exit 3\n' }],
    ['exec', '-it', '-w', '/tmp', 'shell', 'bash'],
  );
  assert.equal(r.failed, null, r.out);
  assert.match(r.out, /^30 100\n\/dev\/pts\/0\npts\/0 +bash\npts\/0 +ps$/m);
  assert.deepEqual([r.status, r.icanon], [3, true]);
  assert.equal(state('shell').Status, 'running', 'the exec ended, not the container');
  ok(['rm', '-f', 'shell']);
  assert.deepEqual(traces(id), []);
});

test("exec's environment is docker's: HOME from the exec user's passwd entry, TERM=xterm with -t and only then", { skip }, () => {
  ok(['run', '-d', '-t', '--name', 'envs', IMAGE, 'sleep', 'infinity']);
  try {
    assert.equal(ok(['exec', '-u', 'www-data', 'envs', 'sh', '-c', 'echo $HOME']), '/var/www\n');
    assert.equal(ok(['exec', '-u', 'nobody', 'envs', 'sh', '-c', 'echo $HOME']), '/nonexistent\n');
    assert.equal(ok(['exec', 'envs', 'sh', '-c', 'echo "TERM=${TERM-unset}"']), 'TERM=unset\n', "a run -t container's TERM is not exec's");
    const t = onPty([], ['exec', '-t', 'envs', 'sh', '-c', 'echo "TERM=${TERM-unset}"']);
    assert.equal(t.out, 'TERM=xterm\n');
  } finally {
    ok(['rm', '-f', 'envs']);
  }
});

test("run -it bash: the caller's window size, resizes followed (stty and bash's COLUMNS/LINES), the exit code, the terminal restored", { skip }, () => {
  const r = onPty(
    [{ size: [25, 90] }, { expect: 'root@[0-9a-f]{12}:/# $' }, { send: 'stty size; echo TERM=$TERM\n' }, { expect: 'TERM=\\w+\r' }, { size: [40, 120] }, { sleep: 0.5 }, { send: 'stty size; echo "cols=$COLUMNS lines=$LINES"; exit 4\n' }, { expect: 'lines=\\d+' }],
    ['run', '-it', '--name', 'term', IMAGE],
  );
  assert.equal(r.failed, null, r.out);
  assert.match(r.out, /^25 90\nTERM=xterm$/m);
  assert.match(r.out, /^40 120\ncols=120 lines=40$/m);
  assert.deepEqual([r.status, r.icanon], [4, true]);
  const after = state('term');
  assert.deepEqual([after.Status, after.ExitCode], ['exited', 4]);
  ok(['rm', 'term']);
  assert.deepEqual(traces(after.id), []);
});

test('--init: docker-init is pid 1 with bash (dynamically linked) its child; orphans are reaped; SIGTERM reaches bash, so stop is quick (143)', { skip }, async () => {
  // (`; true`, or bash would exec ps in its place.)
  const ps = bash(['--init'], '(sleep 0.1 &); sleep 0.5; ps -e -o pid=,ppid=,stat=,comm=; true');
  const rows = ps.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows[0]!.filter((_, i) => i !== 2), ['1', '0', 'docker-init']);
  assert.deepEqual([rows[1]![1], rows[1]![3]], ['1', 'bash']);
  assert.ok(!rows.some((r) => r[2]!.startsWith('Z')), `no zombie: ${ps}`);
  ok(['run', '-d', '--init', '--name', 'inited', IMAGE, 'bash', '-c', 'while :; do sleep 0.1; done']);
  const t0 = Date.now();
  ok(['stop', '-t', '10', 'inited']);
  assert.ok(Date.now() - t0 < 5000, 'bash is not pid 1: the default action of SIGTERM ends it');
  assert.equal(state('inited').ExitCode, 143);
  ok(['rm', 'inited']);
});

/** The image's /etc as a map of name -> "type mode" (symlinks with their target). */
function tree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const p = path.join(rel, name);
      const st = lstatSync(path.join(dir, p));
      m.set(p, st.isSymbolicLink() ? `link ${readlinkSync(path.join(dir, p))}` : `${st.isDirectory() ? 'dir' : 'file'} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk('');
  return m;
}

test('cp /etc out of a stopped container: the whole tree with its modes and symlinks, owned by the caller', { skip }, () => {
  ok(['run', '--name', 'cpsrc', IMAGE, 'bash', '-c', 'echo added > /etc/added.conf']);
  const dst = path.join(root, 'cp');
  ok(['cp', 'cpsrc:/etc', dst]);
  const got = tree(dst);
  assert.equal(readTextSync(path.join(dst, 'added.conf')), 'added\n');
  assert.equal(got.get('shadow'), 'file 640 0:0', 'mode kept; owned by the caller (root), as docker cp');
  assert.equal(got.get('os-release'), 'link ../usr/lib/os-release');
  assert.equal(got.get('skel/.bashrc'), 'file 644 0:0');
  // The image's /etc as the container sees it: the same names, the same passwd.
  const [passwd, names] = ok(['run', '--rm', IMAGE, 'bash', '-c', 'cat /etc/passwd; echo @@; cd /etc && find . -mindepth 1 | sed s,^./,, | sort']).split('@@\n') as [string, string];
  assert.equal(readTextSync(path.join(dst, 'passwd')), passwd);
  const mounted = (n: string) => ['hostname', 'hosts', 'resolv.conf'].includes(n);
  assert.deepEqual([...got.keys()].filter((n) => n !== 'added.conf' && !mounted(n)).sort(), names.trim().split('\n').filter((n) => !mounted(n)));
  ok(['rm', 'cpsrc']);
});

test('cp -a out of a container: still owned by the caller, as docker\'s CLI (-a is for copies into a container)', { skip }, () => {
  ok(['create', '--name', 'cpa', IMAGE]);
  try {
    const dst = path.join(root, 'cp-a');
    ok(['cp', '-a', 'cpa:/etc', dst]);
    assert.equal(tree(dst).get('shadow'), 'file 640 0:0');
  } finally {
    ok(['rm', 'cpa']);
  }
});

test('diff after installing a file and a user; commit with USER/WORKDIR; the committed image runs as the new user in its home', { skip }, () => {
  const install = 'printf "#!/bin/sh\\necho hello from \\$(id -un) in \\$PWD, HOME=\\$HOME, groups \\$(id -Gn)\\n" > /usr/local/bin/hello && chmod 755 /usr/local/bin/hello && rm /etc/issue.net && useradd -m -G users,staff -s /bin/bash app';
  assert.equal(ok(['run', '--name', 'inst', IMAGE, 'bash', '-c', install]), '');
  // docker's diff of the same run on the same image (dockerd 20.10), sorted; less C /usr and
  // C /usr/local, unchanged ancestors of the new file that docker reports and brig does not.
  const want = [
    'A /etc/.pwd.lock', 'A /etc/group-', 'A /etc/gshadow-', 'A /etc/passwd-', 'A /etc/shadow-',
    'A /home/app', 'A /home/app/.bash_logout', 'A /home/app/.bashrc', 'A /home/app/.profile', 'A /usr/local/bin/hello',
    'C /etc', 'C /etc/group', 'C /etc/gshadow', 'C /etc/passwd', 'C /etc/shadow', 'C /home', 'C /usr/local/bin',
    'D /etc/issue.net',
  ];
  assert.deepEqual(ok(['diff', 'inst']).trim().split('\n').filter((l) => l !== 'C /usr' && l !== 'C /usr/local').sort(), want);
  ok(['commit', '-c', 'USER app', '-c', 'WORKDIR /home/app', '-c', 'CMD ["hello"]', 'inst', 'localhost/debian-app:1']);
  assert.equal(ok(['run', '--rm', 'localhost/debian-app:1']), 'hello from app in /home/app, HOME=/home/app, groups app staff users\n');
  const { id } = state('inst');
  ok(['rm', 'inst']);
  assert.deepEqual(traces(id), []);
});

test('diff reports every directory above an added file as changed, as docker does', { skip }, () => {
  ok(['run', '--name', 'anc', IMAGE, 'touch', '/usr/local/bin/x']);
  try {
    assert.deepEqual(ok(['diff', 'anc']).trim().split('\n').sort(), ['A /usr/local/bin/x', 'C /usr', 'C /usr/local', 'C /usr/local/bin']);
  } finally {
    ok(['rm', 'anc']);
  }
});

test('export and import again: the same files, owners, modes and setuid bits, the change kept; without a command the import runs nothing (125)', { skip }, () => {
  ok(['run', '--name', 'exp', IMAGE, 'bash', '-c', 'echo exported > /srv/mark']);
  const file = path.join(root, 'exp.tar');
  ok(['export', '-o', file, 'exp']);
  const list = spawnSync('tar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' }).stdout;
  assert.match(list, /^-rwsr-xr-x 0\/0 .* usr\/bin\/passwd$/m);
  assert.match(list, /^-rw-r----- 0\/42 .* etc\/shadow$/m);
  assert.match(list, /^lrwxrwxrwx 0\/0 .* bin -> usr\/bin$/m);
  assert.doesNotMatch(list, / proc\/./, 'nothing under /proc');
  assert.equal(spawnSync('tar', ['-xOf', file, 'srv/mark'], { encoding: 'utf8' }).stdout, 'exported\n');
  ok(['import', file, 'localhost/reimported:1']);
  const none = brig(['run', '--rm', 'localhost/reimported:1']);
  assert.equal(none.code, 125);
  assert.match(none.stderr, /no command specified/i);
  assert.equal(
    bash(['-u', 'www-data'], 'stat -c "%A %U:%G %n" /usr/bin/passwd /etc/shadow /tmp; cat /srv/mark; passwd -S | cut -d" " -f1,2', 'localhost/reimported:1'),
    '-rwsr-xr-x root:root /usr/bin/passwd\n-rw-r----- root:shadow /etc/shadow\ndrwxrwxrwt root:root /tmp\nexported\nwww-data L\n',
  );
  ok(['rm', 'exp']);
});

test('--read-only with --tmpfs /tmp: the root refuses writes, /tmp is a fresh tmpfs (1777, noexec) that takes them', { skip }, () => {
  const s = bash(['--read-only', '--tmpfs', '/tmp'], 'touch /etc/x 2>&1; echo > /tmp/ok && echo tmp-ok; stat -c %a /tmp; grep " /tmp " /proc/mounts; cat <<<here-string');
  assert.equal(s, "touch: cannot touch '/etc/x': Read-only file system\ntmp-ok\n1777\ntmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime 0 0\nhere-string\n");
});

test('-w into a directory the image does not have: docker creates it (root-owned, 0755), also for another user and a read-only root', { skip }, () => {
  assert.equal(bash(['-w', '/srv/app/data'], 'pwd; stat -c "%A %U" /srv/app /srv/app/data'), '/srv/app/data\ndrwxr-xr-x root\ndrwxr-xr-x root\n');
  assert.equal(bash(['-u', 'www-data', '-w', '/srv/new'], 'pwd; touch x 2>&1; true'), "/srv/new\ntouch: cannot touch 'x': Permission denied\n");
  assert.equal(bash(['--read-only', '-w', '/srv/ro'], 'pwd'), '/srv/ro\n');
});

test('-w onto a file: 125 and the container is not started', { skip }, () => {
  const r = brig(['run', '--rm', '-w', '/etc/passwd', IMAGE, 'pwd']);
  assert.equal(r.code, 125);
  assert.equal(r.stdout, '');
});

test('--entrypoint and --env-file: a file of variables (comments, blanks, spaces and quotes kept, names from the caller, HOME overridden)', { skip }, () => {
  assert.equal(ok(['run', '--rm', '--entrypoint', '/bin/cat', IMAGE, '/etc/debian_version']), readTextSync('/etc/debian_version'));
  assert.equal(ok(['run', '--rm', '--entrypoint', 'bash', IMAGE, '-c', 'echo "$0 $1"', 'zero', 'one']), 'zero one\n');
  const file = path.join(root, 'app.env');
  writeFileSync(file, '# settings\n\n  GREETING=hello world  \nQUOTED="kept quotes"\nEMPTY=\nFROM_CALLER\nHOME=/custom\nNOT_SET_ANYWHERE\n');
  const r = spawnSync(BRIG, ['run', '--rm', '-u', 'www-data', '--env-file', file, IMAGE, 'bash', '-c', 'env | grep -v -e ^PWD= -e ^SHLVL= -e ^_= | sort'], { env: { ...env, FROM_CALLER: 'caller', NOT_SET_ANYWHERE: undefined }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => !l.startsWith('HOSTNAME=')),
    ['EMPTY=', 'FROM_CALLER=caller', 'GREETING=hello world  ', 'HOME=/custom', DEBIAN_PATH, 'QUOTED="kept quotes"', ''],
  );
  writeFileSync(file, 'BAD NAME=x\n');
  const bad = brig(['run', '--rm', '--env-file', file, IMAGE, 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /variable 'BAD NAME' contains whitespaces/);
});

test("resource flags: the limits in the host's cgroup files and the same seen inside; nproc follows --cpuset-cpus; rm leaves nothing", { skip: skip || requires('cgroup-v1') }, () => {
  const id = ok(['run', '-d', '-m', '96m', '--cpus', '0.5', '--pids-limit', '40', '--cpuset-cpus', '0', IMAGE, 'sleep', 'infinity']).trim();
  const cg = (c: string, f: string) => readTextSync(`/sys/fs/cgroup/${c}/brig/${id}/${f}`).trim();
  assert.deepEqual(
    [cg('memory', 'memory.limit_in_bytes'), cg('cpu', 'cpu.cfs_quota_us'), cg('cpu', 'cpu.cfs_period_us'), cg('pids', 'pids.max'), cg('cpuset', 'cpuset.cpus')],
    [String(96 << 20), '50000', '100000', '40', '0'],
  );
  const inside = ok(['exec', id, 'bash', '-c', 'cd /sys/fs/cgroup && cat memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us pids/pids.max; nproc']);
  assert.equal(inside, `${96 << 20}\n50000\n40\n1\n`);
  ok(['rm', '-f', id]);
  assert.deepEqual(traces(id), []);
});

test("/etc/mtab is a link to /proc/mounts, as docker's init layer makes it", { skip }, () => {
  assert.equal(bash([], 'readlink /etc/mtab'), '/proc/mounts\n');
});

test('brig runs while the host has a mount whose mountinfo line is over 8 KiB (a deep mount point; an overlay of many layers)', { skip }, () => {
  // The deep mount lives in a mount namespace of its own: no other brig on this host meets it.
  const deep = path.join(root, 'deep');
  const script = 'set -e; mkdir -p "$2"; mount -t tmpfs none "$2"; cd "$2"; seg=$(printf "r%.0s" $(seq 200)); for i in $(seq 45); do mkdir $seg; cd $seg; done; mkdir m; mount -t tmpfs none m; cd /; exec "$0" run --rm "$1" true';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script, BRIG, IMAGE, deep], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
