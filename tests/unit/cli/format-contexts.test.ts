/**
 * The fields `ps` and `images` offer to --format, from the Engine's summaries: docker's names,
 * truncation, quoting and header names.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanSize } from '../../../src/cli/brig/render.js';
import { IMAGES_DEFAULT, IMAGES_HEADER, imageContexts, PS_DEFAULT, PS_HEADER, psContext, psTemplateUsesSize } from '../../../src/cli/format/contexts.js';
import { listFormatter } from '../../../src/cli/format/docker.js';
import { parseTemplate } from '../../../src/cli/format/template.js';
import type { ContainerSummary } from '../../../src/engine/containers/inspect.js';
import type { ImageSummary } from '../../../src/image/service.js';

const NOW = Date.parse('2026-01-02T03:04:05Z');
const C: ContainerSummary = {
  Id: 'a'.repeat(64),
  Names: ['/web'],
  Image: 'busybox',
  ImageID: 'sha256:' + 'b'.repeat(64),
  Command: 'sh -c "echo hello; sleep 1000"',
  HostConfig: { NetworkMode: 'none' },
  NetworkSettings: { Networks: {} },
  Created: NOW / 1000 - 90,
  State: 'running',
  Status: 'Up About a minute',
  Ports: [],
  Labels: { z: '1', a: 'x=y' },
  Mounts: [],
};
const I: ImageSummary = {
  Id: 'sha256:' + 'c'.repeat(64),
  ParentId: '',
  RepoTags: ['busybox:1', 'busybox:latest'],
  RepoDigests: ['busybox@sha256:' + 'd'.repeat(64)],
  Created: NOW / 1000 - 3 * 86400,
  Size: 4_261_000,
  SharedSize: -1,
  Labels: {},
  Containers: -1,
};

test("ps fields: docker's truncation, quoting, names and labels", () => {
  const rows: [string, string, boolean?][] = [
    ['{{.ID}}', 'aaaaaaaaaaaa'],
    ['{{.ID}}', 'a'.repeat(64), false],
    ['{{.Command}}', '"sh -c \\"echo hello; …"'],
    ['{{.Command}}', '"sh -c \\"echo hello; sleep 1000\\""', false],
    ['{{.Names}} {{.Image}} {{.State}} {{.Status}}', 'web busybox running Up About a minute'],
    ['{{.Labels}}|{{.Label "a"}}|{{.Label "none"}}', 'a=x=y,z=1|x=y|'],
    ['{{.RunningFor}}', 'About a minute ago'],
    ['[{{.Ports}}][{{.Mounts}}][{{.Networks}}] {{.Size}} {{.LocalVolumes}}', '[][][] 0B 0'],
  ];
  for (const [t, want, trunc] of rows) assert.equal(parseTemplate(t).execute(psContext(C, { trunc: trunc ?? true, now: NOW })), want, t);
  assert.match(parseTemplate('{{.CreatedAt}}').execute(psContext(C, { trunc: true, now: NOW })), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
  // --format json: every field docker's ContainerContext marshals, keys sorted.
  const json = JSON.parse(listFormatter('json', PS_DEFAULT).render([psContext(C, { trunc: true, now: NOW })], PS_HEADER)) as Record<string, string>;
  assert.deepEqual(Object.keys(json), ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
  // The default table: docker's columns.
  assert.match(listFormatter(undefined, PS_DEFAULT).render([], PS_HEADER), /^CONTAINER ID {3}IMAGE {5}COMMAND {3}CREATED {3}STATUS {4}PORTS {5}NAMES\n$/);
});

test('images fields: a row per tag, digest by repository, <none> when untagged', () => {
  const rows = imageContexts(I, { trunc: true, now: NOW });
  assert.equal(rows.map((r) => parseTemplate('{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}} {{.CreatedSince}} {{.Size}} {{.SharedSize}}').execute(r)).join('\n'), [
    `busybox:1 cccccccccccc sha256:${'d'.repeat(64)} 3 days ago 4.26MB N/A`,
    `busybox:latest cccccccccccc sha256:${'d'.repeat(64)} 3 days ago 4.26MB N/A`,
  ].join('\n'));
  const none = imageContexts({ ...I, RepoTags: [], RepoDigests: [] }, { trunc: false, now: NOW });
  assert.equal(parseTemplate('{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}}').execute(none[0]!), `<none> <none> <none> sha256:${'c'.repeat(64)}`);
  assert.equal(listFormatter('table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}', IMAGES_DEFAULT).render(rows, IMAGES_HEADER), 'REPOSITORY   TAG       IMAGE ID\nbusybox      1         cccccccccccc\nbusybox      latest    cccccccccccc\n');
});

test('ps: SIZE as docker prints it, mounts, networks, local volumes; which templates ask for sizes', () => {
  const field = (t: string, c: ContainerSummary, trunc = true) => parseTemplate(t).execute(psContext(c, { trunc, now: NOW }));
  assert.equal(field('{{.Size}}', { ...C, SizeRw: 3, SizeRootFs: 1_980_003 }), '3B (virtual 1.98MB)');
  assert.equal(field('{{.Size}}', { ...C, SizeRw: 0, SizeRootFs: 0 }), '0B', 'no virtual size without one');
  assert.equal(field('{{.Size}}', { ...C, SizeRw: 1500, SizeRootFs: 2_000_000 }), '1.5kB (virtual 2MB)', "Go's %.3g: no trailing zeros");
  const mounted: ContainerSummary = {
    ...C,
    NetworkSettings: { Networks: { none: {} } },
    Mounts: [{ Name: 'a-very-long-volume-name', Source: '/var/lib/x', Driver: 'local' }, { Name: '', Source: '/srv/data', Driver: '' }],
  };
  assert.equal(field('{{.Networks}}|{{.Mounts}}|{{.LocalVolumes}}', mounted), 'none|a-very-long-vo…,/srv/data|1');
  assert.equal(field('{{.Mounts}}', mounted, false), 'a-very-long-volume-name,/srv/data');
  // docker runs the template on an empty row first and asks for sizes when .Size was read.
  assert.equal(psTemplateUsesSize('{{.Names}} {{.Size}}'), true);
  assert.equal(psTemplateUsesSize('table {{.ID}}\\t{{.Size}}'), true);
  assert.equal(psTemplateUsesSize('{{json .}}'), true, 'json marshals every field');
  assert.equal(psTemplateUsesSize('{{if .Names}}{{.Size}}{{end}}'), false, 'not reached on the empty row');
  assert.equal(psTemplateUsesSize('json'), false, 'the word json is no template');
  assert.equal(psTemplateUsesSize('{{.Names}}'), false);
  assert.equal(psTemplateUsesSize('{{.Nope}} {{.Size}}'), false, 'a failing template asks nothing');
});

test("sizes: go-units' 1000-based units and Go's %g", () => {
  const rows: [number, string, string][] = [
    [0, '0B', '0B'],
    [999, '999B', '999B'],
    [1000, '1kB', '1kB'],
    [1500, '1.5kB', '1.5kB'],
    [4_261_000, '4.26MB', '4.261MB'],
    [123_456_789, '123MB', '123.5MB'],
    [999_999, '1e+03kB', '1000kB'],
  ];
  for (const [n, three, four] of rows) {
    assert.equal(humanSize(n), three, String(n));
    assert.equal(humanSize(n, 4), four, String(n));
  }
});
