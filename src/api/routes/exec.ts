/** /exec/...: exec instances made by POST /containers/{id}/exec (which is a container route). */
import { inspectExec, resizeExec, startExec } from '../exec.js';
import type { RouteModule } from '../router.js';

export const execRoutes: RouteModule = (r) => {
  r.add('POST', '/exec/{id}/start', startExec);
  r.add('GET', '/exec/{id}/json', async (c) => inspectExec(c));
  r.add('POST', '/exec/{id}/resize', async (c) => resizeExec(c));
};
