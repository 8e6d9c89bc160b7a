/** The image verbs: `brig image VERB`, and docker's top-level aliases (pull, images, rmi, ...). */
import type { Verb, VerbGroup } from '../../verb.js';
import { history } from './history.js';
import { inspect } from './inspect.js';
import { ls } from './ls.js';
import { prune } from './prune.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { rm } from './rm.js';
import { importVerb } from './import.js';
import { load } from './load.js';
import { save } from './save.js';
import { tag } from './tag.js';

export const IMAGE_TOP: Record<string, Verb> = { pull, push, images: ls, rmi: rm, tag, save, load, import: importVerb, history };

export const imageGroup: VerbGroup = {
  name: 'image',
  summary: 'Manage images',
  verbs: { pull, push, ls, list: ls, rm, remove: rm, inspect, tag, save, load, import: importVerb, prune, history },
};
