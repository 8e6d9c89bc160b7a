/**
 * The fields `ps` and `images` offer to --format, from the Engine's summaries: docker's names,
 * truncation, quoting and header names.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IMAGES_DEFAULT, IMAGES_HEADER, imageContexts, PS_DEFAULT, PS_HEADER, psContext } from '../../../src/cli/format/contexts.js';
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
