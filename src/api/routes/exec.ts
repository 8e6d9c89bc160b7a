/** /exec/...: exec instances made by POST /containers/{id}/exec (which is a container route). */
import { inspectExec, startExec } from '../exec.js';
import { ApiError } from '../errors.js';
import type { RouteModule } from '../router.js';

export const execRoutes: RouteModule = (r) => {
  r.add('POST', '/exec/{id}/start', startExec);
  r.add('GET', '/exec/{id}/json', async (c) => inspectExec(c));
  r.add('POST', '/exec/{id}/resize', async (c) => {
    const e = c.state.exec(c.params.id!);
    // The helper relays an exec's terminal from pipes; no resize reaches it from here yet.
    throw new ApiError(501, `resizing the terminal of exec ${e.id} is not supported by brig yet`);
  });
};
