/**
 * The remote engine's pure parts, without a server: docker's host forms, its query encoding,
 * the logs endpoint's records read back, and docker's progress errors.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { encodeQuery } from '../../../src/engine/remote/client.js';
import { parseHost, remoteHostFrom } from '../../../src/engine/remote/host.js';
import { followMessages, logLines } from '../../../src/engine/remote/streams.js';
import { pushedMessages } from '../../../src/engine/push-messages.js';

test("parseHost: docker's -H forms, with the field named when wrong", () => {
  assert.deepEqual(parseHost('unix:///run/brig/docker.sock'), { kind: 'unix', socketPath: '/run/brig/docker.sock', url: 'unix:///run/brig/docker.sock' });
  assert.deepEqual(parseHost('/tmp/x.sock'), { kind: 'unix', socketPath: '/tmp/x.sock', url: 'unix:///tmp/x.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2380'), { kind: 'tcp', host: '127.0.0.1', port: 2380, url: 'tcp://127.0.0.1:2380' });
  assert.equal((parseHost('tcp://[::1]') as { port: number }).port, 2375);
  assert.equal((parseHost('tcp://h', { ca: 'a', cert: 'b', key: 'c' }) as { port: number }).port, 2376, "docker's TLS port");
  for (const bad of ['ssh://x', 'unix://relative', 'tcp://h:99999', 'h:1']) assert.throws(() => parseHost(bad), (e: Error & { field?: string }) => e.field === '--host' && e.message.includes(bad));
  assert.equal(remoteHostFrom({}, {}, '/root'), undefined, 'no host: the local engine');
  assert.deepEqual(remoteHostFrom({}, { BRIG_HOST: 'tcp://127.0.0.1:1', BRIG_TLS_VERIFY: '1', BRIG_CERT_PATH: '/c' }, '/root'), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 1,
    tls: { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' },
    url: 'tcp://127.0.0.1:1',
  });
  assert.throws(() => remoteHostFrom({ host: 'tcp://h:1', tlscert: 'x' }, {}, '/root'), /--tlsverify/);
});

test("encodeQuery: filters as JSON, booleans as 1/0, lists repeated, nothing for undefined", () => {
  assert.equal(encodeQuery({ all: true, size: false, limit: undefined, filters: { label: ['a=b'] }, changes: ['CMD x', 'ENV a=1'] }), '?all=1&size=0&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&changes=CMD%20x&changes=ENV%20a%3D1');
  assert.equal(encodeQuery({}), '');
});

function frame(stream: number, text: string): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([h, Buffer.from(text)]);
}

test('logLines: "TIME ATTRS TEXT" records, framed or raw, cut anywhere', async () => {
  const wire = Buffer.concat([frame(1, '2026-12-07T05:00:00.120000000Z  hello\n'), frame(2, '2026-12-07T05:00:01.000000000Z a=1,b=two+words oops\n')]);
  // Cut in the middle of a header and of a payload.
  const lines = [];
  for await (const l of logLines(Readable.from([wire.subarray(0, 5), wire.subarray(5, 50), wire.subarray(50)]), false)) lines.push(l);
  assert.deepEqual(lines, [
    { stream: 'stdout', log: 'hello\n', time: '2026-12-07T05:00:00.12Z' },
    { stream: 'stderr', log: 'oops\n', time: '2026-12-07T05:00:01Z', attrs: { a: '1', b: 'two words' } },
  ]);
  const raw = [];
  for await (const l of logLines(Readable.from([Buffer.from('2026-12-07T05:00:00.000000001Z  one\n2026-12-07T05:00:00.5Z  tw'), Buffer.from('o')]), true)) raw.push(l);
  assert.deepEqual(raw.map((l) => [l.time, l.log]), [['2026-12-07T05:00:00.000000001Z', 'one\n'], ['2026-12-07T05:00:00.5Z', 'two']]);
});

test("followMessages: every message to the caller; docker's error line ends the stream as an error", async () => {
  const seen: string[] = [];
  const ok = await followMessages(Readable.from([`${JSON.stringify({ status: 'Pulling from x', id: '1' })}\n`, ...pushedMessages('1', 'sha256:ab', 5).map((m) => `${JSON.stringify(m)}\n`)]), (m) => seen.push(m.status ?? '(aux)'));
  assert.deepEqual(seen, ['Pulling from x', '1: digest: sha256:ab size: 5', '(aux)']);
  assert.deepEqual(ok.at(-1)!.aux, { Tag: '1', Digest: 'sha256:ab', Size: 5 });
  await assert.rejects(followMessages(Readable.from([`${JSON.stringify({ errorDetail: { message: 'unauthorized: authentication required' }, error: 'unauthorized: authentication required' })}\n`])), (e: Error & { code: string }) => e.code === 'REGISTRY_UNAUTHORIZED');
});
