/** `brig system VERB`: the engine as a whole (docker system ...). */
import type { VerbGroup } from '../../verb.js';
import { info } from './info.js';
import { metrics } from './metrics.js';

export const systemGroup: VerbGroup = {
  name: 'system',
  summary: 'Manage brig',
  verbs: { info, metrics },
};
