/**
 * Networks through the real bin/brig and netavark: names and aliases resolved by aardvark-dns,
 * HTTP between containers, published ports reached from the host's loopback and from another
 * container, `network connect` on a running container, refused input, and what is left on
 * the host (links, namespace files, firewall rules, mounts) after rm, rm -f and a killed CLI.
 * Traffic only between containers, their namespaces and the host's loopback.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { BRIG } from '../support/brig-cli.js';
import { HTTPD, netLeftovers, netSuite, retry } from '../support/net-e2e.js';

const { brig, ok, traces, skip, data, image: IMAGE, netnsDir } = netSuite('net');

const leftovers = (ports: number[] = []) => netLeftovers(data, ports);

function ip(name: string, network: string): string {
  return ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name]).trim();
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('a fresh data root lists docker\'s predefined networks (bridge, host, none), ids kept, and refuses to remove them', { skip }, () => {
  // First in the file: the data root is fresh. dockerd lists the same three (bridge unless
  // started with --bridge none), drivers bridge, host and null, scope local.
  const ls = () => ok(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}']);
  const first = ls();
  assert.match(first, /^[0-9a-f]{64} bridge bridge local\n[0-9a-f]{64} host host local\n[0-9a-f]{64} none null local\n$/);
  assert.equal(ls(), first, 'the ids stay (per data root)');
  const host = JSON.parse(ok(['network', 'inspect', 'host'])) as [{ Driver: string; IPAM: { Config: unknown[] }; Containers: object }];
  assert.deepEqual([host[0].Driver, host[0].IPAM.Config, host[0].Containers], ['host', [], {}]);
  const noneId = first.split('\n')[2]!.split(' ')[0]!;
  assert.equal(ok(['network', 'inspect', '-f', '{{.Name}}', noneId.slice(0, 12)]), 'none\n');
  assert.equal(ok(['network', 'ls', '-q', '--filter', 'type=builtin']).split('\n').filter(Boolean).length, 3);
  for (const name of ['bridge', 'host', 'none']) {
    const r = brig(['network', 'rm', name]);
    assert.equal(r.code, 1, `rm ${name}`);
    assert.match(r.stderr, new RegExp(`${name} is a pre-defined network and cannot be removed`));
  }
  assert.equal(brig(['network', 'rm', noneId]).code, 1, 'by id too');
  assert.equal(ls(), first, 'prune and rm left them');
});

test('two containers on a user network resolve each other by name and alias, and talk HTTP', { skip }, async () => {
  ok(['network', 'create', 'appnet']);
  ok(['run', '-d', '--name', 'web', '--network', 'appnet', '--network-alias', 'frontend', IMAGE, ...HTTPD]);
  ok(['run', '-d', '--name', 'client', '--network', 'appnet', IMAGE, 'sleep', '300']);
  const webIp = ip('web', 'appnet');
  assert.match(webIp, /^10\.89\.\d+\.\d+$/);
  for (const name of ['web', 'frontend']) {
    const out = ok(['exec', 'client', 'nslookup', name]);
    assert.ok(out.includes(`Address: ${webIp}`), `nslookup ${name}: ${out}`);
    ok(['exec', 'client', 'ping', '-c1', '-W2', name]);
  }
  assert.ok(ok(['exec', 'web', 'nslookup', 'client']).includes(`Address: ${ip('client', 'appnet')}`));
  assert.equal(await retry('wget', () => ok(['exec', 'client', 'wget', '-qO-', 'http://frontend/'])), 'hello from brig\n');
  // docker's files: the resolver first, the container's own address in /etc/hosts.
  assert.match(ok(['exec', 'client', 'cat', '/etc/resolv.conf']), /^nameserver 10\.89\.\d+\.1$/m);
  assert.match(ok(['exec', 'web', 'cat', '/etc/hosts']), new RegExp(`^${webIp.replace(/\./g, '\\.')}\\s`, 'm'));
  const net = JSON.parse(ok(['network', 'inspect', 'appnet'])) as [{ Containers: Record<string, { Name: string }> }];
  assert.deepEqual(Object.values(net[0].Containers).map((c) => c.Name).sort(), ['client', 'web']);
  const r = brig(['network', 'rm', 'appnet']);
  assert.equal(r.code, 1, 'a network in use is not removed');
  assert.match(r.stderr, /has active endpoints/);
  const ids = ['web', 'client'].map((n) => ok(['inspect', '-f', '{{.Id}}', n]).trim());
  ok(['rm', '-f', 'web', 'client']);
  for (const id of ids) assert.deepEqual(traces(id), []);
  ok(['network', 'rm', 'appnet']);
  assert.deepEqual(leftovers(), []);
});

test('-p 127.0.0.1:18080:80 serves httpd to the host; a default-bridge container reaches the published port; brig port and ps show it', { skip }, async () => {
  ok(['run', '-d', '--name', 'pub', '-p', '127.0.0.1:18080:80', '-p', '18090:80', IMAGE, ...HTTPD]);
  assert.equal(await retry('GET 127.0.0.1:18080', () => httpGet('http://127.0.0.1:18080/')), 'hello from brig\n');
  assert.equal(ok(['port', 'pub']).split('\n').filter(Boolean).sort().join('\n'), '80/tcp -> 0.0.0.0:18090\n80/tcp -> 127.0.0.1:18080');
  assert.match(ok(['ps', '--filter', 'name=pub', '--format', '{{.Ports}}']), /127\.0\.0\.1:18080->80\/tcp/);
  const s = JSON.parse(ok(['inspect', 'pub'])) as [{ NetworkSettings: { IPAddress: string; Gateway: string; MacAddress: string; Ports: Record<string, unknown> }; HostConfig: { PortBindings: Record<string, unknown>; NetworkMode: string } }];
  assert.equal(s[0].HostConfig.NetworkMode, 'bridge');
  assert.deepEqual(s[0].HostConfig.PortBindings['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: '18080' }, { HostIp: '', HostPort: '18090' }]);
  assert.match(s[0].NetworkSettings.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
  assert.match(s[0].NetworkSettings.MacAddress, /^[0-9a-f:]{17}$/);
  // Another container on the default bridge: the published port on the host's side of the bridge, and the container itself.
  const gw = s[0].NetworkSettings.Gateway;
  const out = ok(['run', '--rm', IMAGE, 'sh', '-c', `wget -qO- http://${gw}:18090/ && wget -qO- http://${s[0].NetworkSettings.IPAddress}/`]);
  assert.equal(out, 'hello from brig\nhello from brig\n');
  // -p 80 and -P: free host ports.
  ok(['run', '-d', '--name', 'anyport', '-p', '80', '--expose', '8080', '-P', IMAGE, ...HTTPD]);
  const any = ok(['port', 'anyport', '80']).trim();
  assert.match(any, /^0\.0\.0\.0:\d+$/);
  assert.match(ok(['port', 'anyport', '8080/tcp']).trim(), /^0\.0\.0\.0:\d+$/);
  assert.equal(await retry('GET free port', () => httpGet(`http://127.0.0.1:${any.split(':')[1]}/`)), 'hello from brig\n');
  ok(['rm', '-f', 'pub', 'anyport']);
  assert.deepEqual(leftovers([18080, 18090, Number(any.split(':')[1])]), []);
});

test('network connect gives a running container a working interface at once; disconnect takes it away', { skip }, async () => {
  ok(['network', 'create', '--subnet', '10.231.77.0/24', 'late']);
  ok(['run', '-d', '--name', 'lonely', IMAGE, 'sleep', '300']);
  ok(['run', '-d', '--name', 'server', '--network', 'late', IMAGE, ...HTTPD]);
  assert.doesNotMatch(ok(['exec', 'lonely', 'ip', 'addr']), /eth1/, 'one interface before connect');
  ok(['network', 'connect', '--alias', 'lone', '--ip', '10.231.77.50', 'late', 'lonely']);
  assert.match(ok(['exec', 'lonely', 'ip', 'addr']), /inet 10\.231\.77\.50\/24/);
  assert.equal(ok(['exec', 'lonely', 'wget', '-qO-', 'http://server/']), 'hello from brig\n');
  assert.ok(ok(['exec', 'server', 'nslookup', 'lone']).includes('Address: 10.231.77.50'));
  assert.equal(ip('lonely', 'late'), '10.231.77.50');
  ok(['network', 'disconnect', 'late', 'lonely']);
  assert.doesNotMatch(ok(['exec', 'lonely', 'ip', 'addr']), /10\.231\.77\.50/);
  ok(['rm', '-f', 'lonely', 'server']);
  ok(['network', 'rm', 'late']);
  assert.deepEqual(leftovers(), []);
});

test('stop frees the network; start sets it up again; a container that exits on its own is torn down by its monitor', { skip }, async () => {
  ok(['run', '-d', '--name', 'cycle', '-p', '127.0.0.1:18081:80', IMAGE, ...HTTPD]);
  ok(['stop', '-t', '1', 'cycle']);
  assert.deepEqual(leftovers([18081]), [], 'nothing after stop');
  ok(['start', 'cycle']);
  assert.equal(await retry('GET after restart', () => httpGet('http://127.0.0.1:18081/')), 'hello from brig\n');
  ok(['rm', '-f', 'cycle']);
  ok(['run', '-d', '--name', 'short', '-p', '127.0.0.1:18082:80', IMAGE, 'sleep', '1']);
  await retry('the monitor tears the ports down', () => assert.equal(spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.includes('18082'), false), 8000);
  // Its namespace file stays until rm (or the next start).
  ok(['rm', 'short']);
  assert.deepEqual(leftovers([18082]), []);
});

test('bad input is refused with exit 125, naming the field, and leaves nothing', { skip }, async () => {
  ok(['network', 'create', '--subnet', '10.231.80.0/24', 'first']);
  const overlap = brig(['network', 'create', '--subnet', '10.231.80.128/25', 'second']);
  assert.equal(overlap.code, 125);
  assert.match(overlap.stderr, /overlaps/);
  const hostRoute = spawnSync('ip', ['-4', '-o', 'route', 'show', 'scope', 'link'], { encoding: 'utf8' }).stdout.split('\n')[0]?.split(' ')[0];
  if (hostRoute && hostRoute.includes('/')) assert.equal(brig(['network', 'create', '--subnet', hostRoute, 'onhost']).code, 125, `${hostRoute} is a host route`);
  const badP = brig(['run', '--rm', '-p', '80:80:80:80', IMAGE, 'true']);
  assert.equal(badP.code, 125);
  assert.match(badP.stderr, /invalid port specification/);
  assert.equal(brig(['run', '--rm', '-p', '70000:80', IMAGE, 'true']).code, 125);
  const unknown = brig(['run', '-d', '--network', 'nosuchnet', IMAGE, 'true']);
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /network nosuchnet not found/);
  // A port a host process listens on.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(18083, '127.0.0.1', r));
  try {
    const busy = brig(['run', '-d', '--name', 'busy', '-p', '127.0.0.1:18083:80', IMAGE, ...HTTPD]);
    assert.equal(busy.code, 125);
    assert.match(busy.stderr, /18083.*already allocated/);
  } finally {
    srv.close();
  }
  // A port another container holds.
  ok(['run', '-d', '--name', 'holder', '-p', '127.0.0.1:18084:80', IMAGE, ...HTTPD]);
  const held = brig(['run', '--rm', '-p', '127.0.0.1:18084:80', IMAGE, 'true']);
  assert.equal(held.code, 125);
  assert.match(held.stderr, /already allocated/);
  ok(['rm', '-f', 'holder']);
  brig(['rm', '-f', 'busy']);
  assert.equal(ok(['ps', '-aq']), '');
  ok(['network', 'rm', 'first']);
  assert.deepEqual(leftovers([18083, 18084]), []);
});

test('a CLI killed mid-run leaves nothing once the next brig has swept', { skip }, async () => {
  ok(['network', 'create', 'killnet']);
  const child = spawn(BRIG, ['run', '--rm', '--network', 'killnet', '-p', '127.0.0.1:18085:80', IMAGE, 'sleep', '2'], { env: { ...process.env, BRIG_ROOT: data }, stdio: 'ignore' });
  await retry('the namespace is made', () => assert.equal(readdirSync(netnsDir).length > 0, true), 10_000);
  await retry('the ports are up', () => assert.ok(spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.includes('18085')), 10_000);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // The container outlives its CLI; once it has ended, the next brig sweeps what is left.
  await new Promise((r) => setTimeout(r, 3000));
  ok(['ps', '-a']);
  ok(['network', 'rm', 'killnet']);
  assert.deepEqual(leftovers([18085]), []);
});

test('--mac-address sets the interface\'s address on the default bridge and on a user network; a bad one is refused with nothing left', { skip }, () => {
  ok(['network', 'create', 'macnet']);
  ok(['run', '-d', '--name', 'macd', '--mac-address', '02:42:ac:11:00:99', IMAGE, 'sleep', '300']);
  ok(['run', '-d', '--name', 'macu', '--network', 'macnet', '--mac-address', '02-42-AC-11-00-9A', IMAGE, 'sleep', '300']);
  assert.match(ok(['exec', 'macd', 'ip', 'link', 'show', 'eth0']), /link\/ether 02:42:ac:11:00:99 /);
  assert.match(ok(['exec', 'macu', 'ip', 'link', 'show', 'eth0']), /link\/ether 02:42:ac:11:00:9a /);
  assert.equal(ok(['inspect', '-f', '{{.NetworkSettings.MacAddress}}', 'macd']).trim(), '02:42:ac:11:00:99');
  assert.equal(ok(['inspect', '-f', '{{(index .NetworkSettings.Networks "macnet").MacAddress}}', 'macu']).trim(), '02:42:ac:11:00:9a');
  // Kept across a restart.
  ok(['restart', '-t', '1', 'macd']);
  assert.match(ok(['exec', 'macd', 'ip', 'link', 'show', 'eth0']), /link\/ether 02:42:ac:11:00:99 /);
  const before = ok(['ps', '-aq']);
  for (const [mac, why] of [['02:42:ac:11:00', /is not a valid mac address/], ['zz:42:ac:11:00:01', /is not a valid mac address/], ['03:42:ac:11:00:01', /multicast/]] as const) {
    const r = brig(['run', '-d', '--mac-address', mac, IMAGE, 'true']);
    assert.equal(r.code, 125, mac);
    assert.match(r.stderr, why);
  }
  const host = brig(['run', '--rm', '--network', 'host', '--mac-address', '02:42:ac:11:00:01', IMAGE, 'true']);
  assert.equal(host.code, 125);
  assert.match(host.stderr, /conflicting options: mac-address and the network mode/);
  assert.equal(ok(['ps', '-aq']), before, 'nothing made by the refused runs');
  ok(['rm', '-f', 'macd', 'macu']);
  ok(['network', 'rm', 'macnet']);
  assert.deepEqual(leftovers(), []);
});

test('--link name:alias: an /etc/hosts entry for a running container on the default bridge, docker\'s refusals otherwise', { skip }, async () => {
  ok(['run', '-d', '--name', 'lweb', IMAGE, ...HTTPD]);
  const webIp = ip('lweb', 'bridge');
  const webId = ok(['inspect', '-f', '{{.Id}}', 'lweb']).trim();
  ok(['run', '-d', '--name', 'lcli', '--link', 'lweb:webalias', IMAGE, 'sleep', '300']);
  assert.match(ok(['exec', 'lcli', 'cat', '/etc/hosts']), new RegExp(`^${webIp.replace(/\./g, '\\.')}\\twebalias ${webId.slice(0, 12)} lweb$`, 'm'));
  assert.equal(await retry('wget by alias', () => ok(['exec', 'lcli', 'wget', '-qO-', 'http://webalias/'])), 'hello from brig\n');
  assert.equal(ok(['inspect', '-f', '{{json .HostConfig.Links}}', 'lcli']).trim(), '["/lweb:/lcli/webalias"]');
  // Without an alias the name is the alias.
  assert.match(ok(['run', '--rm', '--link', 'lweb', IMAGE, 'cat', '/etc/hosts']), /\tlweb [0-9a-f]{12} lweb$/m);
  const before = ok(['ps', '-aq']);
  const nosuch = brig(['run', '--rm', '--link', 'nosuch:x', IMAGE, 'true']);
  assert.equal(nosuch.code, 125);
  assert.match(nosuch.stderr, /could not get container for nosuch/);
  ok(['create', '--name', 'lstopped', IMAGE, 'true']);
  const stopped = brig(['run', '--rm', '--name', 'lnot', '--link', 'lstopped:st', IMAGE, 'true']);
  assert.equal(stopped.code, 125);
  assert.match(stopped.stderr, /Cannot link to a non running container: \/lstopped AS \/lnot\/st/);
  const hostMode = brig(['run', '--rm', '--network', 'host', '--link', 'lweb', IMAGE, 'true']);
  assert.equal(hostMode.code, 125);
  assert.match(hostMode.stderr, /host type networking can't be used with links/);
  ok(['rm', 'lstopped']);
  assert.equal(ok(['ps', '-aq']), before, 'nothing made by the refused runs');
  // The linked container gone: the linking one does not start again.
  ok(['stop', '-t', '1', 'lcli']);
  ok(['rm', '-f', 'lweb']);
  const restart = brig(['start', 'lcli']);
  assert.notEqual(restart.code, 0);
  assert.match(restart.stderr, /Cannot link to a non running container|could not get container/);
  ok(['rm', '-f', 'lcli']);
  assert.deepEqual(leftovers(), []);
});

test('--network container:NAME shares the other container\'s namespace, hosts and resolv.conf; refused for one unknown or not running, or with -p', { skip }, async () => {
  ok(['run', '-d', '--name', 'nsowner', IMAGE, ...HTTPD]);
  const ownerIp = ip('nsowner', 'bridge');
  assert.equal(await retry('wget over the shared loopback', () => ok(['run', '--rm', '--network', 'container:nsowner', IMAGE, 'wget', '-qO-', 'http://127.0.0.1/'])), 'hello from brig\n');
  assert.match(ok(['run', '--rm', '--network', 'container:nsowner', IMAGE, 'ip', 'addr', 'show', 'eth0']), new RegExp(`inet ${ownerIp.replace(/\./g, '\\.')}/`));
  ok(['run', '-d', '--name', 'nsguest', '--network', 'container:nsowner', IMAGE, 'sleep', '300']);
  assert.equal(ok(['exec', 'nsguest', 'cat', '/etc/hosts']), ok(['exec', 'nsowner', 'cat', '/etc/hosts']));
  assert.equal(ok(['exec', 'nsguest', 'cat', '/etc/resolv.conf']), ok(['exec', 'nsowner', 'cat', '/etc/resolv.conf']));
  const ownerId = ok(['inspect', '-f', '{{.Id}}', 'nsowner']).trim();
  assert.equal(ok(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'nsguest']).trim(), `container:${ownerId}`);
  const before = ok(['ps', '-aq']);
  const unknown = brig(['run', '--rm', '--network', 'container:nosuch', IMAGE, 'true']);
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /nosuch/);
  const published = brig(['run', '--rm', '--network', 'container:nsowner', '-p', '18086:80', IMAGE, 'true']);
  assert.equal(published.code, 125);
  assert.match(published.stderr, /conflicting options: port publishing and the container type network mode/);
  ok(['create', '--name', 'nsidle', IMAGE, 'true']);
  const idle = brig(['run', '--rm', '--network', 'container:nsidle', IMAGE, 'true']);
  assert.notEqual(idle.code, 0);
  assert.match(idle.stderr, /non running container: nsidle/);
  ok(['rm', 'nsidle']);
  assert.equal(ok(['ps', '-aq']), before, 'nothing made by the refused runs');
  ok(['rm', '-f', 'nsguest', 'nsowner']);
  assert.deepEqual(leftovers(), []);
});

test('an rm -f killed part-way (at several points) leaves nothing once brig has run again', { skip }, async () => {
  ok(['network', 'create', 'killrm']);
  for (const delay of [40, 150, 400]) {
    ok(['run', '-d', '--name', 'victim', '--network', 'killrm', '-p', '127.0.0.1:18087:80', IMAGE, ...HTTPD]);
    const child = spawn(BRIG, ['rm', '-f', 'victim'], { env: { ...process.env, BRIG_ROOT: data }, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    ok(['ps', '-a']);
    // Whatever the kill left of the container, the next rm -f finishes it.
    brig(['rm', '-f', 'victim']);
    assert.equal(ok(['ps', '-aq']), '', `after a kill at ${delay} ms`);
  }
  ok(['network', 'rm', 'killrm']);
  assert.deepEqual(leftovers([18087]), []);
});
