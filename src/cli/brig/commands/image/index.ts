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
import { build } from './build.js';
import { builderPrune } from './builder-prune.js';

export const IMAGE_TOP: Record<string, Verb> = { build, pull, push, images: ls, rmi: rm, tag, save, load, import: importVerb, history };

export const imageGroup: VerbGroup = {
  name: 'image',
  summary: 'Manage images',
  verbs: { build, pull, push, ls, list: ls, rm, remove: rm, inspect, tag, save, load, import: importVerb, prune, history },
};

/** `brig builder build|prune`: docker's builder group. */
export const builderGroup: VerbGroup = {
  name: 'builder',
  summary: 'Manage builds',
  verbs: { build, prune: builderPrune },
};
