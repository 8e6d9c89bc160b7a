/** brig events' output: docker's default line (time, type, action, id, sorted attributes) and --format. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventMessage } from '../../../src/engine/engine.js';
import { eventData, eventsTemplate, eventTime, prettyEvent } from '../../../src/cli/format/events.js';

const T = 1_704_164_645_000_000_123n; // 2024-01-02T03:04:05.000000123Z
const die: EventMessage = {
  status: 'die',
  id: 'abc',
  from: 'busybox',
  Type: 'container',
  Action: 'die',
  Actor: { ID: 'abc', Attributes: { name: 'x', image: 'busybox', exitCode: '0', Zeta: 'z', 'a.b': 'c' } },
  scope: 'local',
  time: 1704164645,
  timeNano: T,
};

test("the default line: rfc3339NanoFixed in the local zone, attributes sorted by key (bytes)", () => {
  const zone = process.env.TZ;
  try {
    process.env.TZ = 'UTC';
    assert.equal(prettyEvent(die), '2024-01-02T03:04:05.000000123Z container die abc (Zeta=z, a.b=c, exitCode=0, image=busybox, name=x)\n');
    process.env.TZ = 'Asia/Kolkata';
    assert.equal(eventTime(T), '2024-01-02T08:34:05.000000123+05:30');
    process.env.TZ = 'America/New_York';
    assert.equal(eventTime(T), '2024-01-01T22:04:05.000000123-05:00');
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
  assert.match(prettyEvent({ ...die, Actor: { ID: 'i', Attributes: {} } }), / container die i\n$/, 'no parentheses without attributes');
});

test("--format: Go's field names, json as the wire form (struct order, exact timeNano), bad fields fail before any event", () => {
  const t = eventsTemplate('{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.exitCode}} {{.TimeNano}} {{.Time}} {{.Status}} {{.From}} {{.Scope}}')!;
  assert.equal(t.execute(eventData(die)), 'container die abc 0 1704164645000000123 1704164645 die busybox local');
  assert.equal(
    eventsTemplate('json')!.execute(eventData(die)),
    '{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"Zeta":"z","a.b":"c","exitCode":"0","image":"busybox","name":"x"}},"scope":"local","time":1704164645,"timeNano":1704164645000000123}',
  );
  assert.equal(eventsTemplate('{{json .Actor.Attributes.name}}')!.execute(eventData(die)), '"x"');
  assert.equal(eventsTemplate(''), undefined);
  assert.throws(() => eventsTemplate('{{.Nope}}'), /can't evaluate field Nope/);
  assert.throws(() => eventsTemplate('{{.Type'), /template: /);
});
