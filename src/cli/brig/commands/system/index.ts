/** `brig system VERB`: the engine as a whole (docker system ...; info and events are top-level too, as docker's). */
import type { VerbGroup } from '../../verb.js';
import { boot } from './boot.js';
import { events } from './events.js';
import { info } from './info.js';
import { metrics } from './metrics.js';
import { serve } from './serve.js';

export const systemGroup: VerbGroup = {
  name: 'system',
  summary: 'Manage brig',
  verbs: { boot, events, info, metrics, serve },
};
