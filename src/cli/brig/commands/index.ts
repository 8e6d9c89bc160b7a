/**
 * Every brig command, in one table: main.ts dispatches through it, `brig --help` lists it,
 * and shell completion is generated from it, so the three never disagree.
 */
import type { Verb, VerbGroup } from '../verb.js';
import { compose } from './compose/index.js';
import { CONTAINER_TOP, containerGroup } from './container/index.js';
import { builderGroup, IMAGE_TOP, imageGroup } from './image/index.js';
import { kubeGroup } from './kube/index.js';
import { networkGroup } from './network/index.js';
import { login } from './registry/login.js';
import { logout } from './registry/logout.js';
import { completion } from './system/completion.js';
import { events } from './system/events.js';
import { info } from './system/info.js';
import { systemGroup } from './system/index.js';
import { serve } from './system/serve.js';
import { version } from './system/version.js';
import { volumeGroup } from './volume/index.js';

export const COMMANDS: Record<string, Verb | VerbGroup> = {
  ...CONTAINER_TOP,
  ...IMAGE_TOP,
  events,
  info,
  login,
  logout,
  version,
  serve,
  completion,
  builder: builderGroup,
  compose,
  container: containerGroup,
  image: imageGroup,
  kube: kubeGroup,
  network: networkGroup,
  system: systemGroup,
  volume: volumeGroup,
};
