/**
 * The image endpoints of `brig serve`, driven by the unmodified docker CLI (28.x), raw HTTP
 * and dockerode: list, inspect, history, tag, rmi, save/load, import, commit, prune, pull and
 * push against Debian's docker-registry on 127.0.0.1 (with X-Registry-Auth from the CLI's
 * config), /distribution, and docker's error shapes: a status and {"message"} before a stream
 * starts, an {"errorDetail","error"} line after. The server and the brig CLI share one
 * BRIG_ROOT, so each sees what the other made.
 *
 * Where brig and dockerd (20.10, Debian's docker.io) answer differently (dockerd's answers
 * seen on a dockerd started by hand on its own socket and data root):
 *   - POST /images/{name}/push of a name with no image: dockerd starts the stream ("The push
 *     refers to repository") and says "An image does not exist locally with the tag: NAME" in
 *     it (200); brig answers 404 with the same words before the stream, as the API docs list
 *     404 "No such image" for push. docker's CLI prints the words and exits 1 either way.
 *   - POST /images/{name}/tag without repo: dockerd 20.10 500 "invalid reference format";
 *     brig 400 "repository name (repo) is required" (current moby's words; the docs: 400).
 *   - GET /images/json: dockerd gives Labels and RepoDigests as null when empty, brig {} and
 *     [] (the docs' types); Containers is -1 from dockerd (not counted), a count from brig
 *     (the docs allow either).
 *   - GET /images/search: dockerd asks Docker Hub; brig has no index to ask and answers 501
 *     (the API docs give search no other registry, and 501 is the status for what a server
 *     does not do).
 *   - GET /images/json lists brig's built-in `host` image as well; VirtualSize only to
 *     clients below 1.44, as the 1.44 API changes say (dockerd 20.10 serves 1.41, so always).
 *   - POST /images/load: both answer 200 and put a failure in the stream (moby's
 *     postImagesLoad); the docs list 500 for it, dockerd's code never sends it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { brigCli } from '../support/brig-cli.js';
import { dockerMissing, type Served, startServe } from '../support/brig-serve.js';
import { makeBusyboxRootfs } from '../support/image-busybox.js';
import { freePort, htpasswdMissing, registryMissing, startRegistry, type TestRegistry } from '../support/image-registry.js';
import { requires } from '../support/requires.js';

const skip = requires('root', 'helper', 'busybox') || dockerMissing() || registryMissing();
const root = mkdtempSync(path.join(tmpdir(), 'brig-api-images-'));
const data = path.join(root, 'data');
const { brig, ok, traces } = brigCli(data, { DOCKER_CONFIG: path.join(root, 'brig-docker-config') });
const IMAGE = 'localhost/bb:1';
const TAR = path.join(root, 'bb.tar');
let api: Served;
let registry: TestRegistry;

before(async () => {
  if (skip) return;
  const rootfs = await makeBusyboxRootfs(root);
  for (const a of ['sleep', 'true', 'test', 'touch', 'sh']) spawnSync('ln', ['-sf', 'busybox', path.join(rootfs, 'bin', a)]);
  spawnSync('tar', ['-C', rootfs, '-cf', TAR, '.']);
  ok(['import', '--change', 'ENV PATH=/bin', TAR, IMAGE]);
  registry = await startRegistry();
  api = await startServe(data, root);
});

after(async () => {
  if (!skip) {
    await api?.stop();
    await registry?.stop();
    for (const id of brig(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) brig(['rm', '-f', id]);
  }
  rmSync(root, { recursive: true, force: true });
});

const idOf = (ref: string) => ok(['image', 'inspect', '-f', '{{.Id}}', ref]).trim();
const lines = (text: string) => text.split('\n').filter(Boolean);
const messages = (text: string) => lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);

test('images, inspect, history, tag and rmi through the API see the brig CLI\'s store', { skip }, async () => {
  const id = idOf(IMAGE);
  assert.ok(lines(api.dockerOk(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).includes(`${IMAGE} ${id}`));
  const inspected = JSON.parse(api.dockerOk(['image', 'inspect', IMAGE])) as [{ Id: string; RepoTags: string[]; Config: { Env: string[] }; Os: string }];
  assert.equal(inspected[0].Id, id);
  assert.deepEqual(inspected[0].RepoTags, [IMAGE]);
  assert.deepEqual(inspected[0].Config.Env, ['PATH=/bin']);
  assert.match(api.dockerOk(['history', IMAGE]), /brig import/);

  // A tag made through the API is the brig CLI's too, and the other way round.
  api.dockerOk(['tag', IMAGE, 'localhost/bb:viaapi']);
  assert.equal(idOf('localhost/bb:viaapi'), id);
  ok(['tag', IMAGE, 'localhost/bb:viacli']);
  assert.equal(api.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'localhost/bb:viacli']).trim(), id);
  assert.equal(api.dockerOk(['rmi', 'localhost/bb:viaapi', 'localhost/bb:viacli']), 'Untagged: localhost/bb:viaapi\nUntagged: localhost/bb:viacli\n');
  assert.equal(brig(['image', 'inspect', 'localhost/bb:viaapi']).code, 1);

  // Filters: docker's keys, and its words for an unknown one.
  assert.equal(api.dockerOk(['images', '--filter', 'reference=localhost/bb', '--format', '{{.Repository}}:{{.Tag}}']), `${IMAGE}\n`);
  const bad = api.docker(['images', '--filter', 'bogus=1']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Error response from daemon: invalid filter 'bogus'/);

  // docker's statuses and bodies.
  const missing = await api.http('GET', '/v1.45/images/nope/json');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'No such image: nope:latest' });
  const rmiMissing = api.docker(['rmi', 'nope']);
  assert.equal(rmiMissing.code, 1);
  assert.match(rmiMissing.stderr, /Error response from daemon: No such image: nope:latest/);
  const noRepo = await api.http('POST', `/images/${IMAGE}/tag`);
  assert.equal(noRepo.status, 400);
  assert.deepEqual(noRepo.json(), { message: 'repository name (repo) is required' });
  const byDigest = await api.http('POST', `/images/${IMAGE}/tag?repo=localhost/x&tag=sha256:${'a'.repeat(64)}`);
  assert.equal(byDigest.status, 400);
  const history = (await api.http('GET', `/images/${IMAGE}/history`)).json() as { Id: string; CreatedBy: string; Tags: string[] }[];
  assert.equal(history[0]!.Id, id);
  assert.deepEqual(history[0]!.Tags, [IMAGE]);

  // An image a container uses: 409, as docker's conflict.
  ok(['create', '--name', 'user', IMAGE, 'true']);
  const inUse = await api.http('DELETE', `/images/${IMAGE}`);
  assert.equal(inUse.status, 409);
  assert.match((inUse.json() as { message: string }).message, /^conflict: unable to remove repository reference "localhost\/bb:1" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}$/);
  const cid = ok(['inspect', '-f', '{{.Id}}', 'user']).trim();
  ok(['rm', 'user']);
  assert.deepEqual(traces(cid), []);

  // Versions: VirtualSize went in 1.44; SharedSize is -1 unless asked for.
  const v143 = (await api.http('GET', '/v1.43/images/json')).json() as { Id: string; Size: number; VirtualSize?: number }[];
  const v145 = (await api.http('GET', '/v1.45/images/json')).json() as { Id: string; VirtualSize?: number; SharedSize: number }[];
  const old = v143.find((i) => i.Id === id)!;
  assert.equal(old.VirtualSize, old.Size);
  assert.equal(v145.find((i) => i.Id === id)!.VirtualSize, undefined);
  assert.equal(v145.find((i) => i.Id === id)!.SharedSize, -1);
  // The same layer under another config: both images share all of it.
  ok(['import', '--change', 'ENV PATH=/bin', '--change', 'ENV SECOND=1', TAR, 'localhost/bb2:1']);
  const shared = (await api.http('GET', '/images/json?shared-size=1')).json() as { Id: string; Size: number; SharedSize: number }[];
  const layer = shared.find((i) => i.Id === id)!;
  assert.ok(layer.SharedSize > 1000 && layer.SharedSize < layer.Size, `SharedSize ${layer.SharedSize} of ${layer.Size}`);
  assert.equal(shared.find((i) => i.Id === idOf('localhost/bb2:1'))!.SharedSize, layer.SharedSize);
  ok(['rmi', 'localhost/bb2:1']);

  const search = await api.http('GET', '/images/search?term=busybox');
  assert.equal(search.status, 501);
  assert.match((search.json() as { message: string }).message, /brig does not search registries/);
});

test('save and load round trip; import with changes and a message; prune of dangling images', { skip }, async () => {
  const id = idOf(IMAGE);
  const file = path.join(root, 'saved.tar');
  api.dockerOk(['tag', IMAGE, 'localhost/bb:saved']);
  api.dockerOk(['save', '-o', file, 'localhost/bb:saved']);
  assert.match(spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout, /^manifest\.json$/m);
  api.dockerOk(['rmi', 'localhost/bb:saved']);
  assert.equal(api.dockerOk(['load', '-i', file]), 'Loaded image: localhost/bb:saved\n');
  assert.equal(idOf('localhost/bb:saved'), id);
  // Two names in one archive; a missing name fails before a byte, as a status.
  const two = await api.http('GET', `/images/get?names=${encodeURIComponent(IMAGE)}&names=localhost/bb:saved`);
  assert.equal(two.status, 200);
  assert.equal(two.headers['content-type'], 'application/x-tar');
  const manifest = JSON.parse(extract(two.body, 'manifest.json')) as { RepoTags: string[] }[];
  assert.deepEqual(manifest.flatMap((m) => m.RepoTags).sort(), ['localhost/bb:1', 'localhost/bb:saved']);
  const one = await api.http('GET', `/images/${IMAGE}/get`);
  assert.equal(one.status, 200);
  assert.deepEqual((JSON.parse(extract(one.body, 'manifest.json')) as { RepoTags: string[] }[]).map((m) => m.RepoTags), [[IMAGE]]);
  const noName = await api.http('GET', `/images/get?names=${encodeURIComponent(IMAGE)}&names=localhost/nope:1`);
  assert.equal(noName.status, 404);
  assert.deepEqual(noName.json(), { message: 'No such image: localhost/nope:1' });
  api.dockerOk(['rmi', 'localhost/bb:saved']);

  // A load that fails: docker's 200 with the error in the stream; the CLI exits 1.
  const junk = path.join(root, 'junk.tar');
  writeFileSync(junk, 'not a tar archive at all');
  const badLoad = api.docker(['load', '-i', junk]);
  assert.equal(badLoad.code, 1);
  assert.notEqual(badLoad.stderr.trim(), '');
  const raw = await api.http('POST', '/images/load', { body: Buffer.from('not a tar'), headers: { 'Content-Type': 'application/x-tar' } });
  assert.equal(raw.status, 200);
  const [err] = messages(raw.text);
  assert.ok((err!.errorDetail as { message: string }).message.length > 0);
  assert.equal(err!.error, (err!.errorDetail as { message: string }).message);

  // import: -c and -m as docker applies them; the CLI prints the new id.
  const imported = api.dockerOk(['import', '-c', 'CMD ["cat","/etc/passwd"]', '-c', 'ENV PATH=/bin', '-m', 'from a tarball', TAR, 'localhost/imp:1']).trim();
  assert.match(imported, /^sha256:[0-9a-f]{64}$/);
  assert.equal(idOf('localhost/imp:1'), imported);
  assert.equal(api.dockerOk(['image', 'inspect', '-f', '{{json .Config.Cmd}} {{.Comment}}', 'localhost/imp:1']), '["cat","/etc/passwd"] from a tarball\n');
  assert.match(ok(['run', '--rm', 'localhost/imp:1']), /^root:x:0:0/);
  const url = await api.http('POST', '/images/create?fromSrc=http://127.0.0.1:1/x.tar');
  assert.equal(url.status, 501);
  const neither = await api.http('POST', '/images/create');
  assert.deepEqual([neither.status, neither.json()], [400, { message: 'fromImage or fromSrc is required' }]);

  // An unnamed import is dangling; prune removes it and says so as docker does.
  const anon = await api.http('POST', '/images/create?fromSrc=-&changes=ENV%20DANGLING%3D1', { body: await import('node:fs').then((f) => f.readFileSync(TAR)), headers: { 'Content-Type': 'application/x-tar' } });
  assert.equal(anon.status, 200);
  const anonId = (messages(anon.text)[0] as { status: string }).status;
  assert.match(anonId, /^sha256:/);
  assert.ok(lines(api.dockerOk(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])).includes(anonId));
  const pruned = api.dockerOk(['image', 'prune', '-f']);
  assert.match(pruned, new RegExp(`^Deleted Images:\ndeleted: ${anonId}\n`));
  assert.match(pruned, /Total reclaimed space: /);
  assert.equal(brig(['image', 'inspect', anonId]).code, 1);
  api.dockerOk(['rmi', 'localhost/imp:1']);
});

test('commit of a container the brig CLI made: changes, message, author, pause', { skip }, async () => {
  ok(['run', '-d', '--name', 'cm', IMAGE, 'sh', '-c', 'echo made-inside > /made; sleep 300']);
  for (let i = 0; i < 50 && brig(['exec', 'cm', 'test', '-f', '/made']).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const made = api.dockerOk(['commit', '-c', 'CMD ["cat","/made"]', '-m', 'committed via API', '-a', 'Tess <t@example.org>', 'cm', 'localhost/committed:1']).trim();
  assert.match(made, /^sha256:[0-9a-f]{64}$/);
  assert.equal(ok(['run', '--rm', 'localhost/committed:1']), 'made-inside\n');
  assert.equal(api.dockerOk(['image', 'inspect', '-f', '{{.Author}}|{{.Comment}}', 'localhost/committed:1']), 'Tess <t@example.org>|committed via API\n');
  // The container went on running (paused for the commit and thawed again), and --pause=false works too.
  assert.equal(ok(['inspect', '-f', '{{.State.Status}}', 'cm']).trim(), 'running');
  api.dockerOk(['commit', '--pause=false', 'cm', 'localhost/committed:2']);
  // docker's errors.
  const none = await api.http('POST', '/commit');
  assert.deepEqual([none.status, none.json()], [400, { message: 'invalid name or ID supplied: ""' }]);
  const nope = await api.http('POST', '/commit?container=nope');
  assert.deepEqual([nope.status, nope.json()], [404, { message: 'No such container: nope' }]);
  const config = await api.http('POST', '/commit?container=cm', { body: { Cmd: ['x'] } });
  assert.equal(config.status, 400);
  assert.match((config.json() as { message: string }).message, /^Cmd: not supported by brig/);
  const cid = ok(['inspect', '-f', '{{.Id}}', 'cm']).trim();
  ok(['rm', '-f', 'cm']);
  assert.deepEqual(traces(cid), []);
  api.dockerOk(['rmi', 'localhost/committed:1', 'localhost/committed:2']);
});

test('push and pull against a local registry; errors before and inside the stream as docker sends them', { skip }, async () => {
  const reg = registry.host;
  const name = `${reg}/team/bb`;
  api.dockerOk(['tag', IMAGE, `${name}:1`]);
  const pushed = api.dockerOk(['push', `${name}:1`]);
  assert.match(pushed, new RegExp(`^The push refers to repository \\[${reg.replace(/\./g, '\\.')}/team/bb\\]\n[0-9a-f]{12}: Preparing\n`));
  assert.match(pushed, /[0-9a-f]{12}: Pushed\n/);
  const digest = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(pushed)?.[1];
  assert.ok(digest, pushed);

  // The raw stream: docker's messages, the digest again as an aux-only message last.
  const raw = await api.http('POST', `/images/${name}/push?tag=1`, { headers: { 'X-Registry-Auth': Buffer.from('{}').toString('base64') } });
  assert.equal(raw.status, 200);
  assert.equal(raw.headers['content-type'], 'application/json');
  const ms = messages(raw.text);
  assert.deepEqual(ms[0], { status: `The push refers to repository [${name}]` });
  assert.ok(ms.some((m) => m.status === 'Layer already exists'));
  assert.deepEqual(ms.at(-1), { progressDetail: {}, aux: { Tag: '1', Digest: digest, Size: (ms.at(-1)!.aux as { Size: number }).Size } });

  // The registry's view, nothing pulled.
  const dist = await api.http('GET', `/distribution/${name}:1/json`);
  assert.equal(dist.status, 200);
  const d = dist.json() as { Descriptor: { digest: string; mediaType: string; size: number }; Platforms: unknown[] };
  assert.equal(d.Descriptor.digest, digest);
  assert.deepEqual(d.Platforms, [{ architecture: 'amd64', os: 'linux' }]);
  assert.equal((await api.http('GET', `/distribution/${name}:nope/json`)).status, 404);

  // pull: the tag back, then all tags; the brig CLI sees what the API pulled.
  api.dockerOk(['rmi', `${name}:1`]);
  const pulled = api.dockerOk(['pull', `${name}:1`]);
  assert.match(pulled, new RegExp(`^1: Pulling from team/bb\n`));
  assert.match(pulled, new RegExp(`Digest: ${digest}\nStatus: Downloaded newer image for ${name}:1\n${name}:1\n$`));
  assert.equal(idOf(`${name}:1`), idOf(IMAGE));
  api.dockerOk(['tag', IMAGE, `${name}:2`]);
  api.dockerOk(['push', `${name}:2`]);
  api.dockerOk(['rmi', `${name}:1`, `${name}:2`]);
  const all = api.dockerOk(['pull', '-a', name]);
  assert.match(all, /1: Pulling from team\/bb/);
  assert.match(all, /2: Pulling from team\/bb/);
  assert.deepEqual(lines(ok(['images', '--format', '{{.Tag}}', name])).sort(), ['1', '2']);

  // Errors before the stream starts: a status and docker's words.
  const noTag = api.docker(['pull', `${name}:nope`]);
  assert.equal(noTag.code, 1);
  assert.match(noTag.stderr, new RegExp(`Error response from daemon: manifest for ${name}:nope not found: manifest unknown`));
  const rawNoTag = await api.http('POST', `/images/create?fromImage=${name}&tag=nope`);
  assert.equal(rawNoTag.status, 404);
  const noImage = api.docker(['push', `${reg}/team/nope:1`]);
  assert.match(noImage.stderr, new RegExp(`An image does not exist locally with the tag: ${reg}/team/nope`));
  assert.match(api.docker(['push', `${name}:9`]).stderr, new RegExp(`tag does not exist: ${name}:9`));
  const badRef = await api.http('POST', '/images/create?fromImage=Bad_Name&tag=1');
  assert.equal(badRef.status, 400);

  // An error after the stream started: docker's errorDetail line, the CLI exits 1.
  const closed = `127.0.0.1:${await freePort()}`;
  api.dockerOk(['tag', IMAGE, `${closed}/x:1`]);
  const midway = await api.http('POST', `/images/${closed}/x/push?tag=1`);
  assert.equal(midway.status, 200);
  const last = messages(midway.text).at(-1)!;
  assert.match((last.errorDetail as { message: string }).message, /ECONNREFUSED/);
  assert.equal(last.error, (last.errorDetail as { message: string }).message);
  const cliMidway = api.docker(['push', `${closed}/x:1`]);
  assert.equal(cliMidway.code, 1);
  assert.match(cliMidway.stdout, /The push refers to repository/);
  assert.match(cliMidway.stderr, /ECONNREFUSED/);
  api.dockerOk(['rmi', `${closed}/x:1`, `${name}:1`, `${name}:2`]);
});

test('X-Registry-Auth: the docker CLI\'s credentials reach a registry that wants them', { skip: skip || htpasswdMissing() }, async () => {
  const secured = await startRegistry({ user: 'tess', password: 's3cret' });
  try {
    const name = `${secured.host}/private/bb:1`;
    api.dockerOk(['tag', IMAGE, name]);
    // The server holds no credentials of its own: without the header the registry refuses.
    const anonymous = api.docker(['push', name]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr + anonymous.stdout, /unauthorized|authentication required|credentials/i);
    // The CLI's config.json (as `docker login` writes it): the CLI sends X-Registry-Auth.
    const config = path.join(root, 'cli-config');
    mkdirSync(config, { recursive: true });
    writeFileSync(path.join(config, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('tess:s3cret').toString('base64') } } }));
    api.dockerOk(['push', name], { env: { DOCKER_CONFIG: config } });
    api.dockerOk(['rmi', name]);
    // Without credentials the pull is the registry's 401 before any message (on which docker's
    // CLI, like with dockerd, offers a login prompt: so this one is raw).
    const refused = await api.http('POST', `/images/create?fromImage=${secured.host}/private/bb&tag=1`);
    assert.equal(refused.status, 401);
    api.dockerOk(['pull', name], { env: { DOCKER_CONFIG: config } });
    // Raw: the header as base64url JSON; a wrong password is the registry's 401.
    const header = (password: string) => Buffer.from(JSON.stringify({ username: 'tess', password, serveraddress: secured.host })).toString('base64url');
    const dist = await api.http('GET', `/distribution/${name}/json`, { headers: { 'X-Registry-Auth': header('s3cret') } });
    assert.equal(dist.status, 200);
    const wrong = await api.http('POST', `/images/create?fromImage=${secured.host}/private/bb&tag=1`, { headers: { 'X-Registry-Auth': header('wrong') } });
    assert.equal(wrong.status, 401);
    api.dockerOk(['rmi', name]);
  } finally {
    await secured.stop();
  }
});

test('dockerode: list, inspect, tag, history, pull with progress, remove', { skip }, async () => {
  const docker = new Docker({ socketPath: api.sock });
  const list = await docker.listImages({ filters: JSON.stringify({ reference: ['localhost/bb'] }) });
  assert.deepEqual(list.map((i) => i.RepoTags), [[IMAGE]]);
  const info = await docker.getImage(IMAGE).inspect();
  assert.equal(info.Id, idOf(IMAGE));
  await docker.getImage(IMAGE).tag({ repo: 'localhost/dockerode', tag: 'x' });
  assert.equal(idOf('localhost/dockerode:x'), info.Id);
  const history = await docker.getImage('localhost/dockerode:x').history();
  assert.equal((history as { Id: string }[])[0]!.Id, info.Id);
  // A pull through dockerode: the progress stream followed to its end.
  const name = `${registry.host}/team/dockerode`;
  ok(['tag', IMAGE, `${name}:1`]);
  ok(['push', '-q', `${name}:1`]);
  ok(['rmi', `${name}:1`]);
  const stream = await docker.pull(`${name}:1`);
  const events = await new Promise<{ status?: string }[]>((resolve, reject) => docker.modem.followProgress(stream, (e: Error | null, out: { status?: string }[]) => (e ? reject(e) : resolve(out))));
  assert.equal(events.at(-1)!.status, `Status: Downloaded newer image for ${name}:1`);
  const removed = await docker.getImage('localhost/dockerode:x').remove();
  assert.deepEqual(removed, [{ Untagged: 'localhost/dockerode:x' }]);
  await docker.getImage(`${name}:1`).remove();
  await assert.rejects(docker.getImage('localhost/dockerode:x').inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

/** One member of an uncompressed tar, by name. */
function extract(tar: Buffer, name: string): string {
  for (let off = 0; off + 512 <= tar.length; ) {
    const entry = tar.subarray(off, off + 100).toString('utf8').replace(/\0.*$/s, '');
    if (entry === '') break;
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    if (entry === name) return tar.subarray(off + 512, off + 512 + size).toString('utf8');
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name} is not in the archive`);
}
