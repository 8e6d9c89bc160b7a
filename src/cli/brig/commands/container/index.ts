/** The container verbs: `brig VERB` for the common ones and `brig container VERB` for all. */
import type { Verb, VerbGroup } from '../../verb.js';
import { attach } from './attach.js';
import { cleanup } from './cleanup.js';
import { commit } from './commit.js';
import { cp } from './cp.js';
import { create } from './create.js';
import { diff } from './diff.js';
import { exec } from './exec.js';
import { exportVerb } from './export.js';
import { inspect } from './inspect.js';
import { kill } from './kill.js';
import { logs } from './logs.js';
import { pause, unpause } from './pause.js';
import { prune } from './prune.js';
import { ps } from './ps.js';
import { rename } from './rename.js';
import { rm } from './rm.js';
import { run } from './run.js';
import { start } from './start.js';
import { restart, stop } from './stop.js';
import { stats } from './stats.js';
import { top } from './top.js';
import { port } from './port.js';
import { update } from './update.js';
import { wait } from './wait.js';

/** `brig VERB`, as docker's top-level container commands. */
export const CONTAINER_TOP: Record<string, Verb> = { attach, commit, cp, create, diff, exec, export: exportVerb, inspect, kill, logs, pause, port, ps, rename, restart, rm, run, start, stats, stop, top, unpause, update, wait };

export const containerGroup: VerbGroup = {
  name: 'container',
  summary: 'Manage containers',
  verbs: { ...CONTAINER_TOP, ls: ps, list: ps, remove: rm, prune, cleanup },
};
