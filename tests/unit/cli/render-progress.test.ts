/** docker's jsonmessage display: a line per message elsewhere, lines redrawn in place on a terminal. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { jsonMessageRenderer, progressBar } from '../../../src/cli/brig/render.js';
import type { JSONMessage } from '../../../src/engine/engine.js';

function sink(tty: boolean) {
  let text = '';
  const out = Object.assign(
    new Writable({
      write(c, _e, cb) {
        text += String(c);
        cb();
      },
    }),
    { isTTY: tty },
  );
  return { out, text: () => text };
}

const PULL: JSONMessage[] = [
  { status: 'Pulling from team/app', id: '1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 500, total: 1000 }, id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
  { status: 'Digest: sha256:x' },
];

test('not a terminal: one line per message; transfers (numbers) left out', () => {
  const s = sink(false);
  const r = jsonMessageRenderer(s.out);
  for (const m of PULL) r(m);
  assert.equal(s.text(), '1: Pulling from team/app\naaa: Pulling fs layer\nbbb: Pulling fs layer\naaa: Download complete\naaa: Pull complete\nDigest: sha256:x\n');
});

test('a terminal: a line per layer, redrawn in place with its bar', () => {
  const s = sink(true);
  const r = jsonMessageRenderer(s.out);
  for (const m of PULL.slice(0, 4)) r(m);
  assert.equal(
    s.text(),
    '1: Pulling from team/app\n' +
      '\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B' +
      `\x1b[2A\x1b[2K\raaa: Downloading ${progressBar(500, 1000)}\r\x1b[2B`,
  );
  assert.equal(progressBar(500, 1000), `[${'='.repeat(25)}>${' '.repeat(25)}]     500B/1kB`);
  assert.equal(progressBar(0, 0), '');
});
