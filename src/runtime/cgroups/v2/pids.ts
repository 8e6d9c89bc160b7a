/** v2 pids: pids.max, same file and format as v1. */
import type { Controller } from '../controller.js';
import { pids as v1 } from '../v1/pids.js';

export const pids: Controller = { ...v1 };
