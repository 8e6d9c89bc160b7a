/** The volume verbs: `brig volume VERB` (docker has no top-level aliases for them). */
import type { VerbGroup } from '../../verb.js';
import { create } from './create.js';
import { inspect } from './inspect.js';
import { ls } from './ls.js';
import { prune } from './prune.js';
import { rm } from './rm.js';

export const volumeGroup: VerbGroup = {
  name: 'volume',
  summary: 'Manage volumes',
  verbs: { create, inspect, ls, list: ls, rm, remove: rm, prune },
};
