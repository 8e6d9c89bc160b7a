/**
 * Golden tests of the plan compiler: fixture configs + fixed host facts → the exact op
 * list. No root, no I/O beyond reading fixtures. UPDATE_GOLDEN=1 rewrites the expectations
 * (review the diff: a changed plan is a changed runtime).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { formatPlan } from '../../src/cli/runtime/commands/plan.js';
import { compilePlan } from '../../src/runtime/plan/compile.js';
import { validateSpec } from '../../src/runtime/spec/validate.js';
import { FACTS } from '../support/facts.js';
import { repoRoot } from '../support/requires.js';
import { readTextSync } from '../../src/util/read-text.js';

const FIXTURES = path.join(repoRoot, 'tests', 'golden', 'fixtures');

for (const name of readdirSync(FIXTURES).sort()) {
  test(`plan golden: ${name}`, () => {
    const dir = path.join(FIXTURES, name);
    const spec = validateSpec(JSON.parse(readTextSync(path.join(dir, 'config.json'))));
    const opts = existsSync(path.join(dir, 'options.json'))
      ? JSON.parse(readTextSync(path.join(dir, 'options.json')))
      : {};
    const plan = compilePlan(spec, FACTS, { detach: false, noPivot: false, preserveFds: 0, ...opts });
    const text = `${formatPlan(plan)}# meta ${JSON.stringify(plan.meta)}\n`;
    const expectedFile = path.join(dir, 'plan.txt');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(expectedFile)) writeFileSync(expectedFile, text);
    assert.equal(text, readTextSync(expectedFile));
  });
}
