/**
 * brig build end to end, through the real bin/brig on a data root of its own: the issue's
 * seed Dockerfile shapes built on an Alpine-like busybox image made here (Debian's
 * busybox-static has no adduser/addgroup applets, so the image gets small stand-ins taking
 * Alpine's flags), then run; the image config and history; the cache (an unchanged rebuild
 * is all hits, one changed file rebuilds from its step on); the errors; an interrupted or
 * killed build leaves nothing; skopeo reads the image and podman runs it. RUN steps use
 * --network none.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { plainSteps, writeTree } from '../support/build-context.js';
import { brigCli, BRIG } from '../support/brig-cli.js';
import { repoRoot, requires } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';
import { formatPlatform, hostPlatform, parsePlatform } from '../../src/image/platform.js';
import { registryMissing, startRegistry } from '../support/image-registry.js';

const skip = requires('root', 'helper', 'busybox');
const dir = mkdtempSync(path.join(tmpdir(), 'brig-build-'));
const data = path.join(dir, 'data');
const { brig, ok, env } = brigCli(data);
const NET = ['--network', 'none'];
/** The interrupted builds' RUN: a command no other test runs. */
const SLEEP = 'sleep 3917';

/** Alpine's `addgroup [-S] [-g GID] GROUP` and `adduser [-S] [-D] [-H] [-u UID] [-G GROUP] [-h HOME] [-s SHELL] [-g GECOS] USER`. */
const ADDGROUP = `#!/bin/sh
gid=
while getopts Sg: o; do case $o in g) gid=$OPTARG;; S) ;; *) exit 1;; esac; done
shift $((OPTIND-1))
[ -n "$1" ] || { echo "addgroup: missing group" >&2; exit 1; }
grep -q "^$1:" /etc/group && { echo "addgroup: group '$1' in use" >&2; exit 1; }
[ -n "$gid" ] || gid=$(awk -F: 'BEGIN{m=999} $3>m && $3<60000 {m=$3} END{print m+1}' /etc/group)
echo "$1:x:$gid:" >> /etc/group
`;
const ADDUSER = `#!/bin/sh
uid= grp= home= shell=/bin/sh gecos= nohome=
while getopts SDHu:G:h:s:g:k: o; do case $o in u) uid=$OPTARG;; G) grp=$OPTARG;; h) home=$OPTARG;; s) shell=$OPTARG;; g) gecos=$OPTARG;; H) nohome=1;; S|D|k) ;; *) exit 1;; esac; done
shift $((OPTIND-1))
[ -n "$1" ] || { echo "adduser: missing user" >&2; exit 1; }
grep -q "^$1:" /etc/passwd && { echo "adduser: user '$1' in use" >&2; exit 1; }
[ -n "$uid" ] || uid=$(awk -F: 'BEGIN{m=999} $3>m && $3<60000 {m=$3} END{print m+1}' /etc/passwd)
[ -n "$home" ] || home=/home/$1
if [ -n "$grp" ]; then gid=$(awk -F: -v g="$grp" '$1==g {print $3}' /etc/group); [ -n "$gid" ] || { echo "adduser: unknown group $grp" >&2; exit 1; }
else gid=$uid; echo "$1:x:$gid:" >> /etc/group; fi
echo "$1:x:$uid:$gid:$gecos:$home:$shell" >> /etc/passwd
[ -n "$nohome" ] || { mkdir -p "$home"; chown "$uid:$gid" "$home"; }
`;

function alpineLikeRootfs(root: string): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'root', 'home']) mkdirSync(path.join(root, d), { recursive: true });
  chmodSync(path.join(root, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  chmodSync(path.join(root, 'bin/busybox'), 0o755);
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox' && !a.includes('/'));
  for (const a of applets) symlinkSync('busybox', path.join(root, 'bin', a));
  // Alpine has env where #! lines look for it.
  symlinkSync('/bin/busybox', path.join(root, 'usr/bin/env'));
  writeFileSync(path.join(root, 'usr/sbin/addgroup'), ADDGROUP, { mode: 0o755 });
  writeFileSync(path.join(root, 'usr/sbin/adduser'), ADDUSER, { mode: 0o755 });
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n');
  writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** A context directory with these files. */
const context = (name: string, files: Record<string, string>): string => writeTree(path.join(dir, name), files);
const steps = plainSteps;

function buildPlain(args: string[]): { code: number | null; stdout: string; stderr: string } {
  return brig(['build', '--progress', 'plain', ...NET, ...args]);
}

/** What a finished or interrupted build must not leave on the host. */
function leftovers(): string[] {
  const found: string[] = [];
  const containers = path.join(data, 'containers');
  if (existsSync(containers)) for (const c of readdirSync(containers)) found.push(`container dir ${c}`);
  for (const l of readTextSync('/proc/self/mountinfo').split('\n')) if (l.includes(data)) found.push(`mount ${l.split(' ')[4]}`);
  const meta = path.join(data, 'snapshots', 'overlayfs', 'metadata.json');
  if (existsSync(meta)) {
    const snaps = (JSON.parse(readTextSync(meta)) as { snapshots: Record<string, { kind: string }> }).snapshots;
    for (const [k, v] of Object.entries(snaps)) if (v.kind !== 'committed') found.push(`${v.kind} snapshot ${k}`);
  }
  const leases = path.join(data, 'images', 'store', 'leases');
  if (existsSync(leases)) for (const l of readdirSync(leases)) found.push(`lease ${l}`);
  for (const l of spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n')) if (l.includes(SLEEP)) found.push(`process ${l}`);
  return found;
}

before(() => {
  if (skip) return;
  const root = path.join(dir, 'alpine-root');
  alpineLikeRootfs(root);
  const tar = path.join(dir, 'alpine.tar');
  assert.equal(spawnSync('tar', ['-C', root, '-cf', tar, '.']).status, 0);
  ok(['import', '-c', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-c', 'CMD ["/bin/sh"]', tar, 'alpine-like:3']);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const HARDENED = `# syntax=docker/dockerfile:1
FROM alpine-like:3
ARG APP_HOME=/app
ENV NODE_ENV=production \\
    APP_HOME=\${APP_HOME}
WORKDIR $APP_HOME
# install deps first, for the cache
COPY package*.json ./
RUN cat package.json > deps-installed.txt && echo "installed for $NODE_ENV"
RUN addgroup -S appuser && adduser -S -D -H -G appuser appuser
COPY --chown=appuser:appuser . .
USER appuser
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD wget -q -O- http://localhost:3000/ || exit 1
LABEL org.example.seed=hardened
STOPSIGNAL SIGQUIT
CMD ["sh", "-c", "id -un; stat -c '%U:%G %n' /app/server.js /app/deps-installed.txt; cat /app/deps-installed.txt"]
`;

test('the hardened Node-app shape: WORKDIR, COPY package*.json, RUN, adduser, COPY --chown, USER, EXPOSE, HEALTHCHECK, CMD', { skip }, () => {
  const ctx = context('hardened', {
    Dockerfile: HARDENED,
    'package.json': '{"name":"seed","version":"1.0.0"}\n',
    'package-lock.json': '{}\n',
    'server.js': 'console.log("hi")\n',
    '.dockerignore': 'node_modules\n*.log\n',
    'node_modules/x/index.js': 'ignored\n',
    'debug.log': 'ignored\n',
  });
  const r = buildPlain(['-t', 'seed/hardened:1', '--iidfile', path.join(dir, 'iid'), ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /#\d+ [\d.]+ installed for production/);
  const id = readTextSync(path.join(dir, 'iid'));
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const run = ok(['run', '--rm', ...NET, 'seed/hardened:1']);
  assert.equal(run, 'appuser\nappuser:appuser /app/server.js\nroot:root /app/deps-installed.txt\n{"name":"seed","version":"1.0.0"}\n');
  // .dockerignore kept node_modules and the log out of COPY . .
  assert.equal(ok(['run', '--rm', ...NET, 'seed/hardened:1', 'ls', '-A', '/app']), '.dockerignore\nDockerfile\ndeps-installed.txt\npackage-lock.json\npackage.json\nserver.js\n');
  const cfg = JSON.parse(ok(['image', 'inspect', 'seed/hardened:1', '--format', '{{json .Config}}'])) as Record<string, unknown>;
  assert.equal(cfg.User, 'appuser');
  assert.equal(cfg.WorkingDir, '/app');
  assert.deepEqual(cfg.ExposedPorts, { '3000/tcp': {} });
  assert.deepEqual(cfg.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production', 'APP_HOME=/app']);
  assert.deepEqual(cfg.Healthcheck, { Test: ['CMD-SHELL', 'wget -q -O- http://localhost:3000/ || exit 1'], Interval: 30e9, Timeout: 3e9, Retries: 3 });
  assert.deepEqual(cfg.Labels, { 'org.example.seed': 'hardened' });
  assert.equal(cfg.StopSignal, 'SIGQUIT');
  assert.deepEqual(cfg.Cmd, ['sh', '-c', "id -un; stat -c '%U:%G %n' /app/server.js /app/deps-installed.txt; cat /app/deps-installed.txt"]);
  // History as BuildKit writes it: build args named in RUN lines, empty layers marked.
  const history = ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'seed/hardened:1']).trim().split('\n').reverse();
  assert.deepEqual(history.slice(1, 6), [
    'ARG APP_HOME=/app',
    'ENV NODE_ENV=production APP_HOME=/app',
    'WORKDIR /app',
    'COPY package*.json ./ # buildkit',
    'RUN |1 APP_HOME=/app /bin/sh -c cat package.json > deps-installed.txt && echo "installed for $NODE_ENV" # buildkit',
  ]);
  assert.equal(history.at(-1), 'CMD ["sh" "-c" "id -un; stat -c \'%U:%G %n\' /app/server.js /app/deps-installed.txt; cat /app/deps-installed.txt"]');
  assert.deepEqual(leftovers(), []);
});

test('an unchanged rebuild is all cache hits and the same image; one changed file rebuilds from its step on', { skip }, () => {
  const ctx = path.join(dir, 'hardened');
  const before = readTextSync(path.join(dir, 'iid'));
  const again = buildPlain(['-t', 'seed/hardened:1', '--iidfile', path.join(dir, 'iid2'), ctx]);
  assert.equal(again.code, 0, again.stderr);
  const layerSteps = steps(again.stderr).filter((s) => /\] (RUN|COPY|ADD|WORKDIR) /.test(s.name));
  assert.equal(layerSteps.length, 5);
  assert.ok(layerSteps.every((s) => s.cached), JSON.stringify(layerSteps));
  assert.equal(readTextSync(path.join(dir, 'iid2')), before);
  // A change to server.js: only COPY . . (and what follows) runs again.
  writeFileSync(path.join(ctx, 'server.js'), 'console.log("changed")\n');
  const changed = buildPlain(['-t', 'seed/hardened:2', ctx]);
  assert.equal(changed.code, 0, changed.stderr);
  const s = steps(changed.stderr).filter((x) => /\] (RUN|COPY|ADD|WORKDIR) /.test(x.name));
  assert.deepEqual(s.map((x) => [x.name.replace(/^\[\d+\/\d+\] /, ''), x.cached]), [
    ['WORKDIR $APP_HOME', true],
    ['COPY package*.json ./', true],
    ['RUN cat package.json > deps-installed.txt && echo "installed for $NODE_ENV"', true],
    ['RUN addgroup -S appuser && adduser -S -D -H -G appuser appuser', true],
    ['COPY --chown=appuser:appuser . .', false],
  ]);
  assert.equal(ok(['run', '--rm', ...NET, 'seed/hardened:2', 'cat', '/app/server.js']), 'console.log("changed")\n');
  // A touched but unchanged file is no change (content digests, not times).
  spawnSync('touch', ['-d', '2001-01-01', path.join(ctx, 'package.json')]);
  const touched = buildPlain(['-t', 'seed/hardened:2', ctx]);
  assert.ok(steps(touched.stderr).filter((x) => /\] (RUN|COPY) /.test(x.name)).every((x) => x.cached), touched.stderr);
  // --no-cache runs everything; a different --build-arg misses from the first step that uses it.
  const nc = buildPlain(['--no-cache', '-t', 'seed/hardened:3', ctx]);
  assert.ok(steps(nc.stderr).every((x) => !x.cached), nc.stderr);
  const arg = buildPlain(['--build-arg', 'APP_HOME=/srv', '-t', 'seed/hardened:4', ctx]);
  assert.equal(arg.code, 0, arg.stderr);
  assert.equal(ok(['image', 'inspect', 'seed/hardened:4', '--format', '{{.Config.WorkingDir}}']).trim(), '/srv');
  assert.deepEqual(leftovers(), []);
});

test('multi-stage: a builder stage, COPY --from with --chown to another user, unused stages skipped, --target', { skip }, () => {
  const ctx = context('multistage', {
    Dockerfile: `FROM alpine-like:3 AS deps
RUN mkdir -p /deps && echo deps > /deps/list && sleep 1

FROM alpine-like:3 AS builder
WORKDIR /src
COPY src/ ./
RUN mkdir -p .next/standalone && cat *.txt > .next/standalone/app.txt && sleep 1

FROM alpine-like:3 AS never
RUN echo this stage is not needed; exit 9

FROM alpine-like:3 AS runner
WORKDIR /app
RUN addgroup -S -g 1001 nodejs && adduser -S -u 1001 -G nodejs nextjs
COPY --from=deps /deps/list ./deps.txt
COPY --from=builder --chown=nextjs:nodejs /src/.next/standalone ./
COPY --from=alpine-like:3 --chmod=0700 /usr/sbin/adduser /usr/local/bin/adduser-copy
USER nextjs
CMD ["sh", "-c", "id; ls -ln /app; cat /app/app.txt; stat -c %a /usr/local/bin/adduser-copy"]
`,
    'src/a.txt': 'from a\n',
    'src/b.txt': 'from b\n',
  });
  const t0 = Date.now();
  const r = buildPlain(['-t', 'seed/multi:1', ctx]);
  const ms = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /this stage is not needed/);
  assert.doesNotMatch(r.stderr, /\[never /);
  // deps and builder ran at the same time: the builder's RUN started before deps' finished.
  const lines = r.stderr.split('\n');
  const depsRun = lines.find((l) => /\[deps 2\/2\] RUN/.test(l))!.split(' ')[0];
  const builderRun = lines.find((l) => /\[builder 4\/4\] RUN/.test(l))!.split(' ')[0];
  const idx = (re: RegExp) => lines.findIndex((l) => re.test(l));
  assert.ok(idx(new RegExp(`^${builderRun} \\[`)) < idx(new RegExp(`^${depsRun} DONE`)) || idx(new RegExp(`^${depsRun} \\[`)) < idx(new RegExp(`^${builderRun} DONE`)), r.stderr);
  const out = ok(['run', '--rm', ...NET, 'seed/multi:1']).split('\n');
  assert.equal(out[0], 'uid=1001(nextjs) gid=1001(nodejs)');
  assert.match(out.find((l) => l.endsWith(' app.txt'))!, /^-rw-r--r--\s+1 1001\s+1001 /);
  assert.match(out.find((l) => l.endsWith(' deps.txt'))!, /^-rw-r--r--\s+1 0\s+0 /);
  assert.deepEqual(out.slice(-4), ['from a', 'from b', '700', '']);
  console.log(`multi-stage cold build: ${ms} ms`);
  // --target: only what the target needs.
  const t = buildPlain(['--target', 'builder', '-t', 'seed/multi:builder', ctx]);
  assert.equal(t.code, 0, t.stderr);
  assert.doesNotMatch(t.stderr, /\[(deps|runner|never) /);
  assert.equal(ok(['run', '--rm', ...NET, 'seed/multi:builder', 'cat', '/src/.next/standalone/app.txt']), 'from a\nfrom b\n');
  assert.deepEqual(leftovers(), []);
});

test('ADD unpacks a local tar compressed with xz or bzip2 too, and copies a compressed file that is no tar as it is (docker\'s rule: the content decides)', { skip }, () => {
  const ctx = context('addz', {
    Dockerfile: `FROM alpine-like:3
ADD files.tar.xz /xz/
ADD files.tar.bz2 /bz/
ADD notes.txt.gz /gz/
RUN [ "$(cat /xz/inside/x.txt)" = "in the tar" ] && [ "$(cat /bz/inside/x.txt)" = "in the tar" ] && ls /gz > /gz.txt
CMD ["cat", "/gz.txt"]
`,
    'notes.txt': 'just text\n',
  });
  mkdirSync(path.join(dir, 'zsrc', 'inside'), { recursive: true });
  writeFileSync(path.join(dir, 'zsrc', 'inside', 'x.txt'), 'in the tar');
  assert.equal(spawnSync('tar', ['-C', path.join(dir, 'zsrc'), '-cJf', path.join(ctx, 'files.tar.xz'), 'inside']).status, 0);
  assert.equal(spawnSync('tar', ['-C', path.join(dir, 'zsrc'), '-cjf', path.join(ctx, 'files.tar.bz2'), 'inside']).status, 0);
  assert.equal(spawnSync('sh', ['-c', `gzip -c ${path.join(ctx, 'notes.txt')} > ${path.join(ctx, 'notes.txt.gz')}`]).status, 0);
  const r = buildPlain(['-t', 'seed/addz:1', ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(ok(['run', '--rm', ...NET, 'seed/addz:1']), 'notes.txt.gz\n', 'the gzipped text file is copied, not unpacked');
  ok(['rmi', 'seed/addz:1']);
});

test('the rest of the language: heredocs, ARG/ENV rules, ADD of a local tar, SHELL, ONBUILD, VOLUME, ENTRYPOINT, -f with NAME.dockerignore, --label', { skip }, () => {
  const ctx = context('lang', {
    'build/app.Dockerfile': `ARG BASE=alpine-like:3
FROM \${BASE} AS base
ONBUILD RUN echo triggered > /onbuild.txt
FROM base
ARG WHO
ENV GREETING="hello \${WHO:-nobody}" EMPTY=
RUN <<EOF
echo "$GREETING" > /greeting.txt
echo second >> /greeting.txt
EOF
COPY <<EOF /etc/app.conf
greeting=\${GREETING}
literal=\\$HOME
EOF
COPY <<'EOF' /etc/raw.conf
raw=\${GREETING}
EOF
ADD files.tar.gz /opt/
SHELL ["/bin/sh", "-e", "-c"]
RUN [ "$(cat /opt/inside/x.txt)" = "in the tar" ] && echo shell-ok > /shell.txt
VOLUME /data
MAINTAINER someone@example.com
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /greeting.txt /etc/app.conf /etc/raw.conf /onbuild.txt /shell.txt"]
`,
    'build/app.Dockerfile.dockerignore': 'secret.txt\n',
    'secret.txt': 'do not copy\n',
  });
  mkdirSync(path.join(dir, 'tarsrc', 'inside'), { recursive: true });
  writeFileSync(path.join(dir, 'tarsrc', 'inside', 'x.txt'), 'in the tar');
  assert.equal(spawnSync('tar', ['-C', path.join(dir, 'tarsrc'), '-czf', path.join(ctx, 'files.tar.gz'), 'inside']).status, 0);
  const r = buildPlain(['-f', path.join(ctx, 'build/app.Dockerfile'), '--build-arg', 'WHO=brig', '--label', 'built.by=test', '-t', 'seed/lang:1', ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(ok(['run', '--rm', ...NET, 'seed/lang:1']), 'hello brig\nsecond\ngreeting=hello brig\nliteral=$HOME\nraw=${GREETING}\ntriggered\nshell-ok\n');
  const img = JSON.parse(ok(['image', 'inspect', 'seed/lang:1'])) as [{ Config: Record<string, unknown>; Author: string }];
  assert.deepEqual(img[0].Config.Volumes, { '/data': {} });
  assert.deepEqual(img[0].Config.Labels, { 'built.by': 'test' });
  assert.equal(img[0].Author, 'someone@example.com');
  assert.deepEqual(img[0].Config.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(img[0].Config.Shell, ['/bin/sh', '-e', '-c']);
  // WHO is an ARG: in the RUN's environment, not the image's.
  assert.ok(!(img[0].Config.Env as string[]).some((e) => e.startsWith('WHO=')));
  // The ignore file beside the Dockerfile keeps secret.txt out of COPY . (and the context's
  // .dockerignore, which would keep files.tar.gz out, is not read); so does one beside a
  // Dockerfile outside the context (docker's CLI rule).
  writeTree(ctx, {
    'build/ls.Dockerfile': 'FROM alpine-like:3\nCOPY . /ctx/\nCMD ["ls", "-a", "/ctx"]\n',
    'build/ls.Dockerfile.dockerignore': 'secret.txt\n',
    '.dockerignore': 'files.tar.gz\n',
  });
  writeTree(path.join(dir, 'outside'), { 'o.Dockerfile': 'FROM alpine-like:3\nCOPY . /ctx/\nCMD ["ls", "-a", "/ctx"]\n', 'o.Dockerfile.dockerignore': 'secret.txt\nbuild\n' });
  const ignoreCases: [string, string[]][] = [[path.join(ctx, 'build/ls.Dockerfile'), ['build', 'files.tar.gz']], [path.join(dir, 'outside/o.Dockerfile'), ['files.tar.gz']]];
  for (const [f, want] of ignoreCases) {
    const ls = brig(['build', '-q', ...NET, '-f', f, ctx]);
    assert.equal(ls.code, 0, ls.stderr);
    const listed = ok(['run', '--rm', ...NET, ls.stdout.trim()]).split('\n');
    assert.ok(!listed.includes('secret.txt'), `${f}: ${listed.join(' ')}`);
    for (const w of want) assert.ok(listed.includes(w), `${f}: ${w} missing from ${listed.join(' ')}`);
    if (!want.includes('build')) assert.ok(!listed.includes('build'), `${f}: ${listed.join(' ')}`);
    ok(['rmi', ls.stdout.trim()]);
  }
  const copyAll = context('lang2', { Dockerfile: 'FROM alpine-like:3\nCOPY . /ctx/\nCMD ["ls", "/ctx"]\n', 'a.txt': 'a', '.dockerignore': '*\n!a.txt\n' });
  const id = brig(['build', '-q', ...NET, copyAll]).stdout.trim();
  assert.equal(ok(['run', '--rm', ...NET, id]), 'a.txt\n');
  ok(['rmi', id]);
  // COPY --exclude; a Dockerfile on stdin with no context; a tar context on stdin; -f - with a directory.
  const ex = context('exclude', { Dockerfile: 'FROM alpine-like:3\nCOPY --exclude=*.log d/ /d/\nCMD ["ls", "/d"]\n', 'd/a.txt': 'a', 'd/b.log': 'b' });
  assert.equal(ok(['run', '--rm', ...NET, brig(['build', '-q', ...NET, ex]).stdout.trim()]), 'a.txt\n');
  const fromStdin = brig(['build', '-q', ...NET, '-'], 'FROM alpine-like:3\nRUN echo from-stdin > /x\nCMD ["cat", "/x"]\n');
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal(ok(['run', '--rm', ...NET, fromStdin.stdout.trim()]), 'from-stdin\n');
  const tarCtx = brig(['build', '-q', ...NET, '-'], spawnSync('tar', ['-C', ex, '-czf', '-', '.']).stdout);
  assert.equal(tarCtx.code, 0, tarCtx.stderr);
  assert.equal(ok(['run', '--rm', ...NET, tarCtx.stdout.trim()]), 'a.txt\n');
  const dashF = brig(['build', '-q', ...NET, '-f', '-', ex], 'FROM alpine-like:3\nCOPY d/a.txt /\nCMD ["cat", "/a.txt"]\n');
  assert.equal(dashF.code, 0, dashF.stderr);
  assert.equal(ok(['run', '--rm', ...NET, dashF.stdout.trim()]), 'a');
  assert.match(brig(['build', '-f', '-', '-'], '').stderr, /can't use stdin for both build context and dockerfile/);
});

test('RUN --mount: cache persists between builds, bind from the context, tmpfs, secret; --secret', { skip }, () => {
  const secret = path.join(dir, 'token');
  writeFileSync(secret, 's3cr3t');
  const ctx = context('mounts', {
    Dockerfile: `FROM alpine-like:3
RUN --mount=type=cache,target=/cache echo run >> /cache/runs && wc -l < /cache/runs > /runs.txt
RUN --mount=type=bind,source=input,target=/in cat /in/data.txt > /bound.txt
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && grep -q " /scratch tmpfs" /proc/mounts && echo tmpfs > /tmpfs.txt
RUN --mount=type=secret,id=token cat /run/secrets/token | wc -c > /secret-len.txt
CMD ["sh", "-c", "cat /runs.txt /bound.txt /tmpfs.txt /secret-len.txt; ls /scratch /run/secrets 2>&1 | wc -l"]
`,
    'input/data.txt': 'bound\n',
  });
  const one = buildPlain(['--secret', `id=token,src=${secret}`, '-t', 'seed/mounts:1', ctx]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(ok(['run', '--rm', ...NET, 'seed/mounts:1']).split('\n').slice(0, 4).join(' '), '1 bound tmpfs 6');
  // The secret is in no layer.
  const saved = path.join(dir, 'mounts.tar');
  ok(['save', '-o', saved, 'seed/mounts:1']);
  assert.ok(!spawnSync('sh', ['-c', `tar -xOf ${saved} | zcat -f 2>/dev/null | grep -ac s3cr3t || true`], { encoding: 'utf8' }).stdout.trim().match(/^[1-9]/));
  const two = buildPlain(['--no-cache', '--secret', `id=token,src=${secret}`, '-t', 'seed/mounts:2', ctx]);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(ok(['run', '--rm', ...NET, 'seed/mounts:2', 'cat', '/runs.txt']), '2\n');
  // A required secret that was not given.
  const miss = buildPlain(['--no-cache', '-t', 'seed/mounts:3', context('mounts2', { Dockerfile: 'FROM alpine-like:3\nRUN --mount=type=secret,id=x,required cat /run/secrets/x\n' })]);
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, /line 2: secret x not provided/);
  assert.deepEqual(leftovers(), []);
});

test('errors: a failing RUN shows step, command, exit code and output; missing or outside sources; parse errors name the line; nothing left', { skip }, () => {
  const ctx = context('fail', { Dockerfile: 'FROM alpine-like:3\nRUN echo one; echo two; echo to-stderr >&2; exit 7\n' });
  const r = buildPlain(['-t', 'seed/fail:1', ctx]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERROR: failed to solve: \[2\/2\] RUN echo one; echo two; echo to-stderr >&2; exit 7: process "\/bin\/sh -c echo one; echo two; echo to-stderr >&2; exit 7" did not complete successfully: exit code: 7\n------\n > one\n > two\n > to-stderr\n------/);
  assert.equal(brig(['image', 'inspect', 'seed/fail:1']).code, 1);
  const cases: [string, RegExp][] = [
    ['FROM alpine-like:3\nCOPY missing.txt /\n', /"\/missing.txt" not found in the build context/],
    ['FROM alpine-like:3\nCOPY ../outside /\n', /forbidden path outside the build context: \.\.\/outside/],
    ['FROM alpine-like:3\nCOPY *.nothing /x/\n', /no source files were specified/],
    ['FROM alpine-like:3\n\nBOGUS x\n', /dockerfile parse error on line 3: unknown instruction: BOGUS/],
    ['FROM alpine-like:3\nCOPY --chown=nosuchuser Dockerfile /x\n', /unable to find user nosuchuser/],
    ['FROM alpine-like:3\nCOPY --bogus=1 a b\n', /line 2: unknown flag: --bogus/],
    ['FROM alpine-like:3 AS a\nFROM a\n', /ok/],
    // A registry on the loopback that is not there (never an outside address).
    ['FROM 127.0.0.1:9/no-such-image:1\n', /127\.0\.0\.1:9/],
    ['FROM alpine-like:3\nCOPY a b c\n', /When using COPY with more than one source file, the destination must be a directory and end with a \//],
    // Expansion errors name the instruction's line, as parse errors do.
    ['FROM alpine-like:3\nENV A=1\nWORKDIR ${NOPE:?must be set}\n', /dockerfile parse error on line 3: NOPE: must be set/],
    ['FROM alpine-like:3\n\nENV B=${A\n', /dockerfile parse error on line 3: syntax error: missing '\}'/],
    ['FROM alpine-like:3\nLABEL x="unclosed\n', /dockerfile parse error on line 2: .*double-quote/],
    // COPY --parents is not done, so it is refused, not copied without the parents.
    ['FROM alpine-like:3\nCOPY --parents a /x/\n', /dockerfile parse error on line 2: COPY --parents is not supported/],
  ];
  for (const [df, re] of cases) {
    const c = context(`fail-${Math.random().toString(36).slice(2, 8)}`, { Dockerfile: df, a: 'a', b: 'b' });
    const x = buildPlain(['-q', c]);
    if (re.source === 'ok') assert.equal(x.code, 0, x.stderr);
    else {
      assert.equal(x.code, 1, df);
      assert.match(x.stderr, re, df);
    }
  }
  assert.equal(brig(['build', '-t', 'Bad:Tag', ctx]).code, 1);
  assert.deepEqual(leftovers(), []);
  // One stage fails while another runs: that one is stopped (its container killed) at once.
  const par = context('parallel-fail', {
    Dockerfile: `FROM alpine-like:3 AS slow\nRUN ${SLEEP}\nFROM alpine-like:3 AS bad\nRUN sleep 1; exit 5\nFROM alpine-like:3\nCOPY --from=slow /etc/passwd /a\nCOPY --from=bad /etc/passwd /b\n`,
  });
  const t0 = Date.now();
  const pf = buildPlain([par]);
  assert.equal(pf.code, 1);
  assert.match(pf.stderr, /\[bad 2\/2\] RUN sleep 1; exit 5: process .* exit code: 5/);
  assert.ok(Date.now() - t0 < 30_000, 'the slow stage was not waited for');
  assert.deepEqual(leftovers(), []);
});

test('Ctrl-C during a RUN stops the build and leaves no container, mount, snapshot or image; SIGKILL is cleaned by the next command', { skip }, async () => {
  const ctx = context('slow', { Dockerfile: `FROM alpine-like:3\nCOPY Dockerfile /\nRUN echo started; ${SLEEP}\n` });
  const run = async (sig: NodeJS.Signals) => {
    const p = spawn(BRIG, ['build', '--progress', 'plain', ...NET, '-t', `seed/slow:${sig}`, ctx], { env });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const deadline = Date.now() + 30_000;
    while (!/#\d+ [\d.]+ started/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(err, /started/);
    assert.equal(readdirSync(path.join(data, 'containers')).length, 1, 'the RUN container is there');
    p.kill(sig);
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    return { code, err };
  };
  const int = await run('SIGINT');
  assert.equal(int.code, 130, int.err);
  assert.match(int.err, /cancelled/);
  assert.deepEqual(leftovers(), []);
  const killed = await run('SIGKILL');
  assert.equal(killed.code, null);
  // The next brig command sweeps what the killed build left: its container is killed too.
  ok(['images']);
  assert.deepEqual(leftovers(), []);
  assert.equal(brig(['image', 'inspect', 'seed/slow:SIGKILL']).code, 1);
});

test('builder prune empties the cache; -o writes OCI and docker archives and a directory', { skip }, () => {
  const ctx = path.join(dir, 'multistage');
  const oci = path.join(dir, 'multi-oci.tar');
  const docker = path.join(dir, 'multi-docker.tar');
  const local = path.join(dir, 'multi-local');
  const r = buildPlain(['-o', `type=oci,dest=${oci}`, '-o', `type=docker,dest=${docker}`, '-o', `type=local,dest=${local}`, '-t', 'seed/multi:1', ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(steps(r.stderr).filter((s) => /\] (RUN|COPY) /.test(s.name)).every((s) => s.cached));
  assert.equal(readTextSync(path.join(local, 'app', 'app.txt')), 'from a\nfrom b\n');
  assert.ok(existsSync(oci) && existsSync(docker));
  const p = brig(['builder', 'prune', '-f']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /Total:/);
  const again = buildPlain(['-t', 'seed/multi:1', ctx]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(steps(again.stderr).filter((s) => /\] (RUN|COPY) /.test(s.name)).every((s) => !s.cached), again.stderr);
});

test('skopeo inspects the built image (as build -o type=oci writes it) and podman runs it, with runc and with brig-runtime', { skip: skip || (existsSync('/usr/bin/skopeo') && existsSync('/usr/bin/podman') ? false : 'skopeo or podman not installed') }, () => {
  // The OCI archive the build itself writes (an all-hits rebuild of the seed), and the one `save` writes.
  const oci = path.join(dir, 'hardened-oci.tar');
  const r = buildPlain(['-o', `type=oci,dest=${oci}`, '-t', 'seed/hardened:1', path.join(dir, 'hardened')]);
  assert.equal(r.code, 0, r.stderr);
  const saved = path.join(dir, 'hardened-saved-oci.tar');
  ok(['save', '--format', 'oci-archive', '-o', saved, 'seed/hardened:1']);
  for (const archive of [oci, saved]) {
    const sk = spawnSync('skopeo', ['inspect', '--raw', '--config', `oci-archive:${archive}`], { encoding: 'utf8' });
    assert.equal(sk.status, 0, sk.stderr);
    const conf = JSON.parse(sk.stdout) as { config: { User: string; ExposedPorts: object; Healthcheck: { Test: string[] } }; rootfs: { diff_ids: string[] } };
    assert.equal(conf.config.User, 'appuser');
    assert.deepEqual(conf.config.ExposedPorts, { '3000/tcp': {} });
    assert.deepEqual(conf.config.Healthcheck.Test, ['CMD-SHELL', 'wget -q -O- http://localhost:3000/ || exit 1']);
    const layers = spawnSync('skopeo', ['inspect', '--format', '{{len .Layers}}', `oci-archive:${archive}`], { encoding: 'utf8' });
    assert.equal(layers.status, 0, layers.stderr);
    assert.equal(layers.stdout.trim(), String(conf.rootfs.diff_ids.length));
  }
  const podDir = path.join(dir, 'podman');
  // runc when installed: the image on podman's own stack; brig-runtime: brig's runtime under podman.
  const runtimes = [...(existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc') ? ['runc'] : []), path.join(repoRoot, 'bin', 'brig-runtime')];
  // podman as root asks for nofile 1048576 and nproc 4194304 unless told otherwise: more than
  // a host without CAP_SYS_RESOURCE and lower hard limits can give (runc and brig-runtime
  // both refuse), so it is given limits within this host's (as tests/e2e/podman.test.ts).
  mkdirSync(podDir, { recursive: true });
  const limits = readTextSync('/proc/self/limits');
  const hard = (name: string, most: number) => {
    const v = new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1] ?? 'unlimited';
    return v === 'unlimited' ? most : Math.min(Number(v), most);
  };
  const [nofile, nproc] = [hard('Max open files', 1048576), hard('Max processes', 32768)];
  const conf = path.join(podDir, 'containers.conf');
  writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n`);
  const podman = (args: string[], runtime = runtimes[0]!) =>
    spawnSync('podman', ['--root', path.join(podDir, 'root'), '--runroot', path.join(podDir, 'runroot'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', runtime, ...args], {
      env: { ...process.env, CONTAINERS_CONF: conf },
      encoding: 'utf8',
      timeout: 120_000,
    });
  const load = podman(['load', '-i', oci]);
  assert.equal(load.status, 0, load.stderr);
  try {
    const loaded = podman(['images', '-q']).stdout.trim().split('\n')[0];
    assert.ok(loaded, load.stdout);
    for (const rt of runtimes) {
      const run = podman(['run', '--rm', '--pull', 'never', '--network', 'none', loaded], rt);
      assert.equal(run.status, 0, `podman --runtime ${rt}: ${run.stderr}`);
      assert.equal(run.stdout, 'appuser\nappuser:appuser /app/server.js\nroot:root /app/deps-installed.txt\n{"name":"seed","version":"1.0.0"}\n', `podman --runtime ${rt}`);
    }
  } finally {
    podman(['rmi', '-af']);
  }
});

let server: Server | undefined;
after(() => server?.close());

test('ADD of a URL (a server on 127.0.0.1) with --checksum', { skip }, async () => {
  const body = 'downloaded\n';
  server = createServer((req, res) => {
    res.setHeader('Last-Modified', new Date('2020-01-01T00:00:00Z').toUTCString());
    res.end(req.url === '/file.txt' ? body : '');
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sum = (await import('node:crypto')).createHash('sha256').update(body).digest('hex');
  const good = context('addurl', { Dockerfile: `FROM alpine-like:3\nADD --checksum=sha256:${sum} http://127.0.0.1:${port}/file.txt /dl/\nCMD ["cat", "/dl/file.txt"]\n` });
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(BRIG, ['build', '-q', ...NET, '-t', 'seed/addurl:1', good], { env });
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(ok(['run', '--rm', ...NET, 'seed/addurl:1']), body);
  const bad = context('addurl-bad', { Dockerfile: `FROM alpine-like:3\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/file.txt /dl/\n` });
  const b = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(BRIG, ['build', '-q', ...NET, bad], { env });
    let stderr = '';
    p.stderr.on('data', (x: Buffer) => (stderr += x.toString()));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
  assert.equal(b.code, 1);
  assert.match(b.stderr, /digest mismatch/);
});

/** A brig command run without blocking this process (a server here answers it). */
function brigAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(BRIG, args, { env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a context given as the URL of a tar (a server on 127.0.0.1)', { skip }, async () => {
  const src = context('urlctx', { Dockerfile: 'FROM alpine-like:3\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n', 'hello.txt': 'from a url context\n' });
  const tar = spawnSync('tar', ['-C', src, '-cf', '-', '.']).stdout;
  const srv = createServer((req, res) => {
    if (req.url === '/ctx.tar') res.end(tar);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const port = (srv.address() as { port: number }).port;
    const r = await brigAsync(['build', '-q', ...NET, `http://127.0.0.1:${port}/ctx.tar`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ok(['run', '--rm', ...NET, r.stdout.trim()]), 'from a url context\n');
    ok(['rmi', r.stdout.trim()]);
  } finally {
    await new Promise((r) => srv.close(r));
  }
});

test('RUN --network=none, RUN --mount=type=bind,from=<stage>, a proxy arg, syntax= and check= warned about', { skip }, () => {
  const c = context('small', {
    Dockerfile: `# syntax=docker/dockerfile:1
# check=error=true
FROM alpine-like:3 AS src
RUN echo made-in-stage > /made
FROM alpine-like:3
RUN awk -F: 'NR>2 {gsub(/ /, "", $1); print $1}' /proc/net/dev | sort > /ifs-default
RUN --network=none awk -F: 'NR>2 {gsub(/ /, "", $1); print $1}' /proc/net/dev > /ifs
RUN --mount=type=bind,from=src,target=/m cat /m/made > /got
RUN echo "proxy=$HTTP_PROXY" > /proxy
CMD ["cat", "/ifs-default", "/ifs", "/got", "/proxy"]
`,
  });
  // No --network none here: the instruction's flag is what takes the network away.
  const r = brig(['build', '--progress', 'plain', '--build-arg', 'HTTP_PROXY=http://127.0.0.1:9/', '-t', 'seed/small:1', c]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[Warning\] parser directive syntax=docker\/dockerfile:1 is ignored/);
  assert.match(r.stderr, /\[Warning\] parser directive check=error=true is ignored: brig does not run build checks/);
  // Without the flag a RUN has the default network's interface (eth0) besides lo.
  assert.equal(ok(['run', '--rm', ...NET, 'seed/small:1']), 'eth0\nlo\nlo\nmade-in-stage\nproxy=http://127.0.0.1:9/\n');
  const history = ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'seed/small:1']);
  assert.match(history, /RUN \/bin\/sh -c echo "proxy=\$HTTP_PROXY"/);
  assert.doesNotMatch(history, /127\.0\.0\.1:9|HTTP_PROXY=/);
  ok(['rmi', 'seed/small:1']);
});

const ESC = String.fromCharCode(0x1b);

test('--progress tty to a pipe draws the live view', { skip }, () => {
  const c = context('tty', { Dockerfile: 'FROM alpine-like:3\nRUN echo tty-step-output; sleep 0.5\n' });
  const r = brig(['build', '--progress', 'tty', ...NET, '--no-cache', c]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[\+\] Building \d+\.\ds \(\d+\/\d+\)/);
  assert.match(r.stderr, / => \[2\/2\] RUN echo tty-step-output; sleep 0\.5 {2}\d+\.\ds/);
  // Redrawn in place: cursor up and erase-line sequences, not #N lines.
  assert.match(r.stderr, new RegExp(`${ESC}\\[\\d+A`));
  assert.ok(r.stderr.includes(`${ESC}[2K`));
  assert.doesNotMatch(r.stderr, /^#\d+ /m);
});

test('--platform: BUILDPLATFORM is the host\'s, TARGETARCH the requested one; a local base of another platform is refused', { skip }, () => {
  const host = hostPlatform();
  const other = host.architecture === 'amd64' ? 'linux/arm64' : 'linux/amd64';
  const otherArch = other.split('/')[1]!;
  const c = context('platform', {
    Dockerfile: 'FROM --platform=$BUILDPLATFORM alpine-like:3\nARG TARGETARCH\nARG BUILDARCH\nARG TARGETPLATFORM\nARG BUILDPLATFORM\nRUN echo "$TARGETARCH $BUILDARCH $TARGETPLATFORM $BUILDPLATFORM" > /arch\nCMD ["cat", "/arch"]\n',
    'other.Dockerfile': 'FROM alpine-like:3\nRUN true\n',
  });
  const r = brig(['build', '-q', ...NET, '--platform', other, c]);
  assert.equal(r.code, 0, r.stderr);
  const hostPlat = formatPlatform(host);
  assert.equal(ok(['run', '--rm', ...NET, r.stdout.trim()]), `${otherArch} ${host.architecture} ${formatPlatform(parsePlatform(other))} ${hostPlat}\n`);
  ok(['rmi', r.stdout.trim()]);
  const bad = brig(['build', '-q', ...NET, '--platform', other, '-f', path.join(c, 'other.Dockerfile'), c]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`base image alpine-like:3 is ${hostPlat.replace(/\//g, '\\/')}, not the requested ${other.replace('/', '\\/')}`));
});

const regSkip = skip || registryMissing();

test('--pull pulls the base even when an image of that name is here', { skip: regSkip }, async () => {
  const reg = await startRegistry();
  try {
    const ref = `127.0.0.1:${reg.port}/brig-build/base:1`;
    const marked = context('pullbase', { Dockerfile: 'FROM alpine-like:3\nRUN echo from-registry > /marker\n' });
    const b = brig(['build', '-q', ...NET, '-t', ref, marked]);
    assert.equal(b.code, 0, b.stderr);
    const push = await brigAsync(['push', ref]);
    assert.equal(push.code, 0, push.stderr);
    // The local name now points at an image without the marker.
    ok(['tag', 'alpine-like:3', ref]);
    const c = context('pull', { Dockerfile: `FROM ${ref}\nCMD ["cat", "/marker"]\n` });
    const local = brig(['build', '-q', ...NET, c]);
    assert.equal(local.code, 0, local.stderr);
    assert.notEqual(brig(['run', '--rm', ...NET, local.stdout.trim()]).code, 0, 'without --pull the local image is used');
    const pulled = await brigAsync(['build', '-q', ...NET, '--pull', c]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(ok(['run', '--rm', ...NET, pulled.stdout.trim()]), 'from-registry\n');
    for (const i of [local.stdout.trim(), pulled.stdout.trim(), ref]) brig(['rmi', i]);
  } finally {
    await reg.stop();
  }
});

/** The host's node (Debian's nodejs, or the one the machine has) with its libraries and npm, on the Alpine-like base. */
function nodeRootfs(root: string): void {
  alpineLikeRootfs(root);
  const node = spawnSync('readlink', ['-f', '/usr/bin/node'], { encoding: 'utf8' }).stdout.trim();
  copyFileSync(node, path.join(root, 'usr/bin/node'));
  chmodSync(path.join(root, 'usr/bin/node'), 0o755);
  for (const lib of spawnSync('ldd', [node], { encoding: 'utf8' }).stdout.match(/\/lib\S*/g) ?? []) {
    mkdirSync(path.dirname(path.join(root, lib)), { recursive: true });
    copyFileSync(lib, path.join(root, lib));
  }
  const npm = spawnSync('readlink', ['-f', '/usr/bin/npm'], { encoding: 'utf8' }).stdout.trim();
  const npmRoot = npm.replace(/\/bin\/npm-cli\.js$/, '');
  mkdirSync(path.join(root, 'usr/lib/node_modules'), { recursive: true });
  assert.equal(spawnSync('cp', ['-a', npmRoot, path.join(root, 'usr/lib/node_modules/npm')]).status, 0);
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/bin/npm'));
}

const nodeSkip = skip || (existsSync('/usr/bin/node') && existsSync('/usr/bin/npm') ? false : 'no node and npm on the host to make a Node base image from');

test('the Node app seed on a Node base: npm install in a RUN, EXPOSE, CMD node, the container goes healthy', { skip: nodeSkip, timeout: 180_000 }, async () => {
  const root = path.join(dir, 'node-root');
  nodeRootfs(root);
  const tar = path.join(dir, 'node.tar');
  assert.equal(spawnSync('tar', ['-C', root, '-cf', tar, '.']).status, 0);
  ok(['import', '-c', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-c', 'CMD ["node"]', tar, 'node-like:18-alpine']);
  rmSync(tar);
  const ctx = context('nodeapp', {
    Dockerfile: `FROM node-like:18-alpine
WORKDIR /usr/src/app
COPY package*.json ./
RUN npm install --offline --no-audit --no-fund
COPY . .
EXPOSE 3000
HEALTHCHECK --interval=1s --timeout=5s --retries=3 CMD node -e "require('http').get('http://127.0.0.1:3000/', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"
CMD ["node", "server.js"]
`,
    'package.json': '{"name":"seed","version":"1.0.0","dependencies":{}}\n',
    'server.js': 'require("http").createServer((q, s) => s.end("hello from node\\n")).listen(3000);\n',
  });
  const r = buildPlain(['-t', 'seed/node:1', ctx]);
  assert.equal(r.code, 0, r.stderr);
  // npm install wrote its lock file in the RUN step's layer.
  assert.equal(ok(['run', '--rm', ...NET, 'seed/node:1', 'ls', '/usr/src/app']), 'Dockerfile\npackage-lock.json\npackage.json\nserver.js\n');
  const id = ok(['run', '-d', ...NET, '--name', 'brig-build-node', 'seed/node:1']).trim();
  try {
    let status = '';
    for (let i = 0; i < 60 && status !== 'healthy'; i++) {
      await new Promise((res) => setTimeout(res, 500));
      status = ok(['inspect', '--format', '{{.State.Health.Status}}', id]).trim();
    }
    assert.equal(status, 'healthy');
    assert.equal(ok(['exec', id, 'wget', '-qO-', 'http://127.0.0.1:3000/']), 'hello from node\n');
  } finally {
    ok(['rm', '-f', id]);
  }
});
