/**
 * brig system prune as docker's: the prompt (with the filters it shows), "no" removing
 * nothing, then stopped containers, unused networks, (--volumes) unused anonymous volumes
 * and dangling (-a: unused) images, each listed, and the space reclaimed; what is in use
 * stays. A container's network made of a stopped container's goes in the same run, as the
 * containers go first. And the engine's start-up sweep, which collects what a killed command left.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { restartServe } from '../support/brig-cli.js';
import { netLeftovers, netSuite } from '../support/net-e2e.js';
import { readTextSync } from '../../src/util/read-text.js';

const { brig, ok, skip, data, root, image: IMAGE } = netSuite('sysprune');

const names = (kind: 'network' | 'volume') => ok([kind, 'ls', '--format', '{{.Name}}']).split('\n').filter(Boolean).sort();

test('system prune: docker\'s prompt and output; containers before networks; volumes and every unused image only when asked', { skip }, () => {
  // An image of its own (a tag of IMAGE would stay: docker keeps an image a container uses, every tag of it).
  ok(['import', '--change', 'ENV SPARE=1', path.join(root, 'net.tar'), 'localhost/spare:1']);
  ok(['network', 'create', 'unusednet']);
  ok(['network', 'create', 'usednet']);
  ok(['network', 'create', 'stopnet']);
  ok(['volume', 'create', 'named']);
  const running = ok(['run', '-d', '--name', 'keeper', '--network', 'usednet', '-v', '/kept', IMAGE, 'sleep', '300']).trim();
  const stopped = ok(['create', '--name', 'stopped', '--network', 'stopnet', IMAGE, 'true']).trim();
  // Another stopped one, with no network: the default bridge is not made here (every data root's
  // is 10.88.0.0/16, so another root's rules would look like this one's leftovers).
  const stopped2 = ok(['create', '--name', 'stopped2', '--network', 'none', IMAGE, 'true']).trim();
  const exited = ok(['run', '--name', 'exited', '--network', 'none', '-v', '/anon', '-v', 'named:/named', IMAGE, 'sh', '-c', 'echo data > /anon/f']).trim();
  assert.equal(exited, '');
  const exitedId = ok(['inspect', '-f', '{{.Id}}', 'exited']).trim();
  const anon = ok(['inspect', '-f', '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}', 'exited']).trim();
  assert.match(anon, /^[0-9a-f]{64}$/);

  // The prompt; "n" removes nothing and exits 0.
  const no = brig(['system', 'prune', '--filter', 'label=a=b', '--filter', 'until=10h'], 'n\n');
  assert.equal(no.code, 0);
  assert.equal(
    no.stdout,
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n\n  Items to be pruned will be filtered with:\n  - label=a=b\n  - until=10h\n\nAre you sure you want to continue? [y/N] ',
  );
  assert.equal(brig(['system', 'prune', '-a', '--volumes'], '\n').stdout.split('\n').slice(0, 5).join('\n'), 'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them');
  assert.equal(ok(['ps', '-aq']).split('\n').filter(Boolean).length, 4);
  const bad = brig(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'ERROR: The "until" filter is not supported with "--volumes"\n');
  assert.equal(ok(['ps', '-aq']).split('\n').filter(Boolean).length, 4, 'nothing removed on bad input');

  // Plain: stopped containers (stopnet's user too, so stopnet goes), unused networks; no volumes, no image in use or tagged.
  const out = ok(['system', 'prune', '-f']);
  const want = [stopped, stopped2, exitedId].sort();
  const m = /^Deleted Containers:\n([0-9a-f\n]+)\nDeleted Networks:\n([a-z\n]+)\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/.exec(out);
  assert.ok(m, out);
  assert.deepEqual(m[1]!.split('\n').filter(Boolean).sort(), want);
  assert.deepEqual(m[2]!.split('\n').filter(Boolean).sort(), ['stopnet', 'unusednet']);
  assert.deepEqual(ok(['ps', '-aq', '--no-trunc']).trim(), running);
  // The predefined networks stay, as docker's do.
  assert.deepEqual(names('network'), ['bridge', 'host', 'none', 'usednet']);
  assert.ok(names('volume').includes(anon), 'the anonymous volume stays without --volumes');

  // Nothing left to prune: docker prints the total alone.
  assert.equal(ok(['system', 'prune', '-f']), 'Total reclaimed space: 0B\n');

  // -a --volumes: the now unused anonymous volume (not the named one, not the running container's), the spare tag.
  const all = ok(['system', 'prune', '-f', '-a', '--volumes']);
  assert.match(all, new RegExp(`^Deleted Volumes:\\n${anon}\\n\\nDeleted Images:\\nuntagged: localhost/spare:1\\n(deleted: sha256:[0-9a-f]{64}\\n)+\\nTotal reclaimed space: \\d+(\\.\\d+)?[kMG]?B\\n$`));
  assert.ok(!names('volume').includes(anon));
  assert.ok(names('volume').includes('named'));
  assert.equal(ok(['inspect', '-f', '{{.State.Running}}', 'keeper']).trim(), 'true');
  assert.ok(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).includes(IMAGE), 'an image in use stays');
  ok(['rm', '-f', 'keeper']);
  ok(['network', 'rm', 'usednet']);
  assert.deepEqual(netLeftovers(data), []);
});

test('the start-up sweep collects what interrupted commands left: a namespace with no container, a netavark request file, a half-made volume', { skip }, () => {
  const netns = path.join(data, 'run-net', 'netns');
  const cfg = path.join(data, 'run-net', 'netavark');
  mkdirSync(netns, { recursive: true });
  mkdirSync(cfg, { recursive: true });
  // A namespace file still mounted, its container gone (as a brig killed between unshare and its record).
  const stray = path.join(netns, 'ab'.repeat(32));
  writeFileSync(stray, '');
  assert.equal(spawnSync('unshare', [`--net=${stray}`, 'true']).status, 0);
  assert.ok(readTextSync('/proc/self/mountinfo').includes(stray));
  // netavark's request files: a dead brig's goes, a live one's (this process) stays.
  const me = `${process.pid}-${readTextSync('/proc/self/stat').split(') ')[1]!.split(' ')[19]}`;
  const dead = path.join(cfg, `${'cd'.repeat(32)}.setup.4194303-1.json`);
  const live = path.join(cfg, `${'ef'.repeat(32)}.teardown.${me}.json`);
  writeFileSync(dead, '{}');
  writeFileSync(live, '{}');
  // A volume whose create was cut short (its writer's pid gone).
  const half = path.join(data, 'volumes', 'halfvol.new.4194303');
  mkdirSync(path.join(half, '_data'), { recursive: true });
  // The sweep is the engine's start-up step: a local brig command starts an engine each time;
  // in remote mode the engine is brig serve, which sweeps when it starts, so it is restarted.
  restartServe(data);
  ok(['ps', '-a']);
  assert.equal(existsSync(stray), false, 'the namespace file');
  assert.ok(!readTextSync('/proc/self/mountinfo').includes(stray), 'its mount');
  assert.equal(existsSync(dead), false, "a dead brig's request file");
  assert.equal(existsSync(live), true, "a live brig's request file");
  assert.equal(existsSync(half), false, 'the half-made volume');
  assert.ok(!names('volume').includes('halfvol'));
  rmSync(live);
});
