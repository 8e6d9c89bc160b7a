/** v2 rdma: rdma.max, same file and format as v1. */
import type { Controller } from '../controller.js';
import { rdma as v1 } from '../v1/rdma.js';

export const rdma: Controller = { ...v1 };
