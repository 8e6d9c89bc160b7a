/**
 * Isolation between networks as docker has it (DOCKER-ISOLATION-STAGE-1/2): a container on
 * one bridge network reaches no container on another unless it is on both, the default bridge
 * included; an --internal network reaches nothing outside its subnet and nothing outside
 * reaches in. Checked with busybox wget and ping between containers only, and the rules
 * looked at from the host afterwards. Also ps and network ls over several networks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { HTTPD, netLeftovers, netSuite, retry } from '../support/net-e2e.js';

const { brig, ok, skip, data, image: IMAGE } = netSuite('netiso');

function ip(name: string, network: string): string {
  return ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name]).trim();
}

/** Whether `from` gets the page `to` serves (a 2 s timeout: a dropped packet is no answer; busybox wget's own -T crashes). */
function reaches(from: string, toIp: string): boolean {
  const r = brig(['exec', from, 'timeout', '2', 'wget', '-qO-', `http://${toIp}/`]);
  return r.code === 0 && r.stdout === 'hello from brig\n';
}

function pings(from: string, toIp: string): boolean {
  return brig(['exec', from, 'ping', '-c1', '-W1', toIp]).code === 0;
}

test('bridge networks are isolated from each other and from the default bridge; a container on two reaches both', { skip }, async () => {
  ok(['network', 'create', 'isoa']);
  ok(['network', 'create', 'isob']);
  ok(['run', '-d', '--name', 'ca', '--network', 'isoa', IMAGE, ...HTTPD]);
  ok(['run', '-d', '--name', 'cb', '--network', 'isob', '-v', 'isovol:/data', '-p', '127.0.0.1::80', '--expose', '81', IMAGE, ...HTTPD]);
  ok(['run', '-d', '--name', 'dflt', IMAGE, ...HTTPD]);
  ok(['run', '-d', '--name', 'both', '--network', 'isoa', IMAGE, 'sleep', '300']);
  ok(['network', 'connect', 'isob', 'both']);
  const [aIp, bIp, dIp] = [ip('ca', 'isoa'), ip('cb', 'isob'), ip('dflt', 'bridge')];
  // ps: the network filter takes a name (exactly) or an id prefix, as dockerd's; .Networks lists them all.
  const ps = (...f: string[]) => ok(['ps', '-a', '--format', '{{.Names}}', ...f.flatMap((x) => ['--filter', x])]).split('\n').filter(Boolean).sort();
  const isobId = ok(['network', 'inspect', '-f', '{{.Id}}', 'isob']).trim();
  assert.deepEqual(ps('network=isoa'), ['both', 'ca']);
  assert.deepEqual(ps(`network=${isobId.slice(0, 10)}`), ['both', 'cb']);
  assert.deepEqual(ps('network=isoa', 'network=bridge'), ['both', 'ca', 'dflt']);
  assert.deepEqual(ps('network=iso'), [], 'a name prefix is no match');
  assert.deepEqual(ps('network=none'), []);
  assert.equal(ok(['ps', '--filter', 'name=both', '--format', '{{.Networks}}']).trim().split(',').sort().join(','), 'isoa,isob');
  assert.deepEqual(ps('volume=isovol'), ['cb']);
  assert.deepEqual(ps('volume=/data'), ['cb']);
  assert.deepEqual(ps('expose=81'), ['cb']);
  assert.deepEqual(ps(`publish=${ok(['port', 'cb', '80']).trim().split(':')[1]}`), ['cb']);
  assert.deepEqual(ps('publish=80'), [], 'publish is the host port');
  // On both networks: both answer (the same path the refused ones take, so the refusals below mean something).
  assert.equal(await retry('both -> a', () => assert.ok(reaches('both', aIp)) ?? true), true);
  assert.ok(reaches('both', bIp), 'both -> b');
  assert.ok(pings('both', aIp) && pings('both', bIp));
  // Across networks: nothing, either way, TCP or ICMP, the default bridge included.
  assert.equal(reaches('ca', bIp), false, 'a (isoa) -> b (isob)');
  assert.equal(reaches('cb', aIp), false, 'b (isob) -> a (isoa)');
  assert.equal(pings('ca', bIp), false, 'ping a -> b');
  assert.equal(reaches('dflt', aIp), false, 'default bridge -> isoa');
  assert.equal(reaches('ca', dIp), false, 'isoa -> default bridge');
  // The last container of one network going (netavark 1.4 then drops its own jump to the
  // isolation chain) leaves the others isolated.
  ok(['rm', '-f', 'both']);
  ok(['rm', '-f', 'ca']);
  ok(['run', '-d', '--name', 'a2', '--network', 'isoa', IMAGE, ...HTTPD]);
  ok(['network', 'create', 'isoc']);
  ok(['run', '-d', '--name', 'cc', '--network', 'isoc', IMAGE, 'sleep', '300']);
  ok(['rm', '-f', 'cc']);
  assert.equal(reaches('cb', ip('a2', 'isoa')), false, 'b -> a2 after another network was torn down');
  assert.equal(reaches('dflt', bIp), false, 'default bridge -> b after another network was torn down');
  ok(['rm', '-f', 'a2', 'cb', 'dflt']);
  for (const n of ['isoa', 'isob', 'isoc']) ok(['network', 'rm', n]);
  assert.deepEqual(netLeftovers(data), []);
});

test('an --internal network reaches nothing outside its subnet and nothing outside reaches in', { skip }, async () => {
  ok(['network', 'create', '--internal', 'inner']);
  ok(['network', 'create', 'outer']);
  ok(['run', '-d', '--name', 'i1', '--network', 'inner', IMAGE, ...HTTPD]);
  ok(['run', '-d', '--name', 'i2', '--network', 'inner', IMAGE, 'sleep', '300']);
  ok(['run', '-d', '--name', 'co', '--network', 'outer', IMAGE, ...HTTPD]);
  ok(['run', '-d', '--name', 'od', IMAGE, ...HTTPD]);
  const [i1, oIp, odIp] = [ip('i1', 'inner'), ip('co', 'outer'), ip('od', 'bridge')];
  const outerGw = ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'outer']).trim();
  // Inside its subnet, by address and by name.
  assert.equal(await retry('i2 -> i1', () => assert.ok(reaches('i2', i1)) ?? true), true);
  assert.ok(reaches('i2', 'i1'), 'i2 -> i1 by name');
  // Out: to another network's container, to the default bridge's, to another subnet's gateway.
  assert.equal(reaches('i1', oIp), false, 'inner -> outer');
  assert.equal(reaches('i1', odIp), false, 'inner -> default bridge');
  assert.equal(pings('i1', outerGw), false, 'inner -> the outer gateway');
  // In: from a user network and from the default bridge.
  assert.equal(reaches('co', i1), false, 'outer -> inner');
  assert.equal(pings('od', i1), false, 'default bridge -> inner');
  // No default route in an internal container (docker's: nothing to route through).
  assert.doesNotMatch(ok(['exec', 'i1', 'ip', 'route']), /^default/m);
  ok(['rm', '-f', 'i1', 'i2', 'co', 'od']);
  ok(['network', 'rm', 'inner', 'outer']);
  assert.deepEqual(netLeftovers(data), []);
  // brig's jump and drop rule go with the last isolated network (another root's may still hold them).
  const rules = spawnSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' }).stdout;
  if (!/-A NETAVARK_ISOLATION_1 -i /.test(rules)) assert.doesNotMatch(rules, /brig network isolation|-o brig\+ -j DROP/);
});

test("network ls --format: docker's networkContext fields, table and -q", { skip }, () => {
  ok(['network', 'create', '--internal', '--label', 'team=a', 'fmtnet']);
  const id = ok(['network', 'inspect', '-f', '{{.Id}}', 'fmtnet']).trim();
  assert.equal(ok(['network', 'ls', '--filter', 'name=fmtnet', '--format', '{{.ID}} {{.Name}} {{.Driver}} {{.Scope}} {{.IPv6}} {{.Internal}} {{.Labels}}']), `${id.slice(0, 12)} fmtnet bridge local false true team=a\n`);
  assert.match(ok(['network', 'ls', '--filter', 'name=fmtnet', '--format', '{{.CreatedAt}}']), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+\n$/);
  assert.equal(ok(['network', 'ls', '--filter', 'name=fmtnet', '--no-trunc', '-q']), `${id}\n`);
  assert.equal(ok(['network', 'ls', '--filter', 'name=fmtnet', '--format', 'table {{.Name}}\t{{.Internal}}']), 'NAME      INTERNAL\nfmtnet    true\n');
  assert.notEqual(brig(['network', 'ls', '--format', '{{.Nope}}']).code, 0);
  ok(['network', 'rm', 'fmtnet']);
});
