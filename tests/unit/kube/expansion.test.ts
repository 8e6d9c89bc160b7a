/**
 * kube play's `$(VAR)` expansion, as the kubelet does it: the expansion rules on their own
 * (kubelet's expand_test cases), then through a manifest: an env value sees the variables
 * defined before it (envFrom's ConfigMap and Secret, then the list in order), command and args
 * the container's whole environment; references to nothing stay as written and are warned of.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandReferences } from '../../../src/compose/kube/expansion.js';
import { parseManifests } from '../../../src/compose/kube/manifest.js';
import { planPlay } from '../../../src/compose/kube/play.js';

test("expandReferences: kubelet's rules", () => {
  const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', EMPTY: '', DOLLAR: '$' };
  const x = (s: string) => expandReferences(s, (n) => vars[n]).value;
  for (const [input, want] of [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_B)', 'A-B'],
    ['$(VAR_A)$(VAR_B)', 'AB'],
    ['$(EMPTY)x', 'x'],
    ['$(DOLLAR)(VAR_A)', '$(VAR_A)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['$$', '$'],
    ['$$VAR_A', '$VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['${VAR_A}', '${VAR_A}'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$(VAR_A', '$(VAR_A'],
    ['$()', '$()'],
    ['$', '$'],
    ['x$', 'x$'],
    ['$(VAR_A)$', 'A$'],
    ['no refs', 'no refs'],
  ] as const) assert.equal(x(input), want, input);
  assert.deepEqual(expandReferences('$(A) $(VAR_A) $(B) $$(C)', (n) => vars[n]).undefinedNames, ['A', 'B']);
});

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata: { name: cfg }
data: { HOST: db.local }
---
apiVersion: v1
kind: Secret
metadata: { name: sec }
stringData: { PASS: s3cr3t }
---
apiVersion: v1
kind: Pod
metadata: { name: exp }
spec:
  containers:
    - name: app
      image: busybox
      envFrom:
        - configMapRef: { name: cfg }
        - secretRef: { name: sec }
      env:
        - { name: PORT, value: "5432" }
        - { name: URL, value: "pg://$(HOST):$(PORT)/$(LATER)" }
        - { name: LATER, value: late }
        - { name: LITERAL, value: "$$(HOST) costs $5" }
        - { name: AUTH, value: "user:$(PASS)" }
        - { name: KEY, valueFrom: { configMapKeyRef: { name: cfg, key: HOST } } }
        - { name: PORT, value: "$(PORT)0" }
      command: ["/bin/sh", "-c", "echo $(URL) $$(URL) $(KEY) $(NOPE)"]
      args: ["$(LATER)", "$(PORT)"]
`;

test('kube play: $(VAR) in env values, command and args, from envFrom and the env list; unknown ones warned and left', () => {
  const warnings: string[] = [];
  const plan = planPlay(parseManifests(MANIFEST, '/m/exp.yaml'), (m) => warnings.push(m));
  const r = plan.pods[0]!.containers[0]!.request;
  const env = Object.fromEntries(r.Env!.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  assert.equal(env.URL, 'pg://db.local:5432/$(LATER)', 'a variable defined later is not seen');
  assert.equal(env.LITERAL, '$(HOST) costs $5');
  assert.equal(env.AUTH, 'user:s3cr3t', 'from a Secret');
  assert.equal(env.PORT, '54320', 'a redefinition sees the earlier value');
  assert.deepEqual(r.Entrypoint, ['/bin/sh', '-c', 'echo pg://db.local:5432/$(LATER) $(URL) db.local $(NOPE)']);
  assert.deepEqual(r.Cmd, ['late', '54320'], 'command and args see the whole environment');
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /\/m\/exp\.yaml.*spec\.containers\[0\]\.env\[1\]\.value: \$\(LATER\) is not among the variables defined before this one; left as written, as Kubernetes does/);
  assert.match(warnings[1]!, /spec\.containers\[0\]\.command\[2\]: \$\(NOPE\) is not among the container's environment; left as written/);
});
