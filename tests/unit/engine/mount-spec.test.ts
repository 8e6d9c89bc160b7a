/** -v, --mount and --volumes-from as docker reads them, and the plan of a container's mounts (no root). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMountFlag, volumeFlags } from '../../../src/cli/brig/commands/container/mount-flags.js';
import { inheritMounts, parseBind, parseMount, parseVolumesFrom, planMounts } from '../../../src/engine/volumes/mount-spec.js';

test('-v: named volumes, binds, anonymous with a mode, modes checked', () => {
  assert.deepEqual(parseBind('data:/var/lib/db', 0), { kind: 'volume', name: 'data', destination: '/var/lib/db', rw: true, mode: '', copy: true, driverOpts: {}, labels: {} });
  assert.deepEqual(parseBind('/host/dir:/in/:ro,rslave', 1), { kind: 'bind', source: '/host/dir', destination: '/in', rw: false, propagation: 'rslave', mode: 'ro,rslave', recursive: true, createSource: true });
  assert.equal((parseBind('/srv:z', 0) as { kind: string; name?: string }).kind, 'volume', 'dst:mode is an anonymous volume');
  assert.equal((parseBind('data:/x:nocopy', 0) as { copy: boolean }).copy, false);
  assert.throws(() => parseBind('data:/x:ro,rw', 0), /invalid mode: ro,rw/);
  assert.throws(() => parseBind('data:/x:shared', 0), /invalid mode/);
  assert.throws(() => parseBind('my data:/x', 0), /invalid characters for a local volume name/);
  assert.throws(() => parseBind('a:b:c:d', 2), { message: "invalid volume specification: 'a:b:c:d'", field: 'HostConfig.Binds[2]' } as never);
  assert.throws(() => parseBind('data:x', 0), /mount path must be absolute/);
});

test('--mount: CSV fields into docker\'s mount.Mount, then checked by type', () => {
  assert.deepEqual(parseMountFlag('type=bind,source=/a,target=/b,readonly,bind-propagation=shared'), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'shared' } });
  assert.deepEqual(parseMountFlag('src=v,dst=/d,volume-opt=type=tmpfs,volume-opt=o=size=1m,volume-label=a=b,volume-nocopy=true'), {
    Type: 'volume',
    Source: 'v',
    Target: '/d',
    VolumeOptions: { DriverConfig: { Options: { type: 'tmpfs', o: 'size=1m' } }, Labels: { a: 'b' }, NoCopy: true },
  });
  assert.deepEqual(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=700'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 << 20, Mode: 0o700 } });
  assert.deepEqual(parseMountFlag('"type=bind","src=/a,b",dst=/x').Source, '/a,b', 'quoted CSV fields');
  assert.throws(() => parseMountFlag('type=bind,dst=/x,volume-nocopy'), /cannot mix 'volume-\*' options with mount type 'bind'/);
  assert.throws(() => parseMountFlag('type=volume,readonly=maybe'), /invalid value for readonly: maybe/);
  assert.throws(() => parseMountFlag('target'), /invalid field 'target' must be a key=value pair/);
  assert.deepEqual(parseMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o700 } }, 0), { kind: 'tmpfs', destination: '/t', rw: true, options: ['nosuid', 'nodev', 'noexec', 'size=1024', 'mode=700'] });
  assert.throws(() => parseMount({ Type: 'bind', Target: '/t' }, 3), { message: 'invalid mount config for type "bind": field Source must not be empty', field: 'HostConfig.Mounts[3].Source' } as never);
  assert.throws(() => parseMount({ Type: 'volume', Source: 'vol', Target: '/t', VolumeOptions: { Subpath: '../x' } }, 0), /subpath must be a relative path within the volume/);
  assert.throws(() => parseMount({ Type: 'volume', Target: '/t', VolumeOptions: { DriverConfig: { Name: 'nfs-plugin' } } }, 0), /volume driver "nfs-plugin" is not supported/);
});

test('-v /path is an anonymous volume (Config.Volumes); a relative source is made absolute from the current directory', () => {
  assert.deepEqual(volumeFlags(['/scratch', 'data:/d', './here:/h:ro', '../up:/u'], '/work/app'), {
    binds: ['data:/d', '/work/app/here:/h:ro', '/work/up:/u'],
    volumes: { '/scratch': {} },
  });
});

test('the plan: binds and mounts must not collide; image volumes they cover are theirs; volumes-from underneath', () => {
  const plan = planMounts({ Binds: ['data:/data'], Mounts: [{ Type: 'tmpfs', Target: '/cache' }], Volumes: { '/data': {}, '/logs': {} }, Tmpfs: { '/run/x': '' } });
  assert.deepEqual(plan.map((p) => [p.kind, p.destination]), [['volume', '/data'], ['tmpfs', '/cache'], ['volume', '/logs']]);
  assert.throws(() => planMounts({ Binds: ['aa:/x'], Mounts: [{ Type: 'volume', Source: 'bb', Target: '/x/' }] }), /Duplicate mount point: \/x/);
  const from = inheritMounts([{ Type: 'volume', Name: 'shared', Source: '/v/shared/_data', Destination: '/shared', RW: true, Propagation: '', Mode: '' }, { Type: 'tmpfs', Source: '', Destination: '/t', RW: true, Propagation: '', Mode: '' }], false);
  assert.deepEqual(from, [{ kind: 'volume', name: 'shared', destination: '/shared', rw: false, mode: '', copy: false, driverOpts: {}, labels: {} }]);
  const over = planMounts({ Binds: ['/host:/shared'] }, from);
  assert.deepEqual(over.map((p) => p.kind), ['bind'], 'a container\'s own mount beats an inherited one');
  assert.deepEqual(parseVolumesFrom('web:ro', 0), { container: 'web', rw: false });
  assert.throws(() => parseVolumesFrom('web:rx', 1), /invalid volumes-from specification: 'web:rx'/);
});
