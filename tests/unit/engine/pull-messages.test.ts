/** A pull's progress events become docker's JSON messages (pull_v2.go's wording). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONMessage } from '../../../src/engine/engine.js';
import { pullMessages } from '../../../src/engine/pull-messages.js';
import { parseReference } from '../../../src/image/reference.js';
import type { ProgressEvent } from '../../../src/image/registry/client.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const CFG = `sha256:${'c'.repeat(64)}`;
const ev = (digest: string, status: ProgressEvent['status'], current = 0, total = 10, kind: ProgressEvent['kind'] = 'blob'): ProgressEvent => ({ kind, digest, status, current, total });

test('a first pull: Pulling from, fs layers, downloads (numbers), checksums, extraction, Pull complete; no config line', () => {
  const out: JSONMessage[] = [];
  const on = pullMessages(parseReference('localhost:5000/team/app:1'), (m) => out.push(m));
  for (const e of [
    ev('sha256:m', 'done', 1, 1, 'manifest'),
    ev(A, 'exists', 10),
    ev(B, 'waiting'),
    ev(CFG, 'downloading', 5),
    ev(CFG, 'done', 10),
    ev(A, 'exists', 10),
    ev(B, 'downloading', 4),
    ev(B, 'done', 10),
    ev(B, 'extracting', 0),
    ev(B, 'extracted', 10),
  ]) on(e);
  assert.deepEqual(out, [
    { status: 'Pulling from team/app', id: '1' },
    { status: 'Already exists', progressDetail: {}, id: 'aaaaaaaaaaaa' },
    { status: 'Pulling fs layer', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    { status: 'Downloading', progressDetail: { current: 4, total: 10 }, id: 'bbbbbbbbbbbb' },
    { status: 'Verifying Checksum', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    { status: 'Download complete', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    { status: 'Extracting', progressDetail: { current: 0, total: 10 }, id: 'bbbbbbbbbbbb' },
    { status: 'Pull complete', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  ]);
});

test('by digest the id is the whole reference; a name without tag is latest', () => {
  const d = `sha256:${'d'.repeat(64)}`;
  const out: JSONMessage[] = [];
  pullMessages(parseReference(`busybox@${d}`), (m) => out.push(m))(ev('sha256:m', 'done', 1, 1, 'manifest'));
  pullMessages(parseReference('busybox', { defaultTag: false }), (m) => out.push(m))(ev('sha256:m', 'done', 1, 1, 'manifest'));
  assert.deepEqual(out, [
    { status: 'Pulling from library/busybox', id: `docker.io/library/busybox@${d}` },
    { status: 'Pulling from library/busybox', id: 'latest' },
  ]);
});
