/** The network verbs: `brig network VERB`. */
import type { VerbGroup } from '../../verb.js';
import { connect } from './connect.js';
import { create } from './create.js';
import { disconnect } from './disconnect.js';
import { inspect } from './inspect.js';
import { ls } from './ls.js';
import { prune } from './prune.js';
import { rm } from './rm.js';

export const networkGroup: VerbGroup = {
  name: 'network',
  summary: 'Manage networks',
  verbs: { create, ls, list: ls, inspect, rm, remove: rm, prune, connect, disconnect },
};
