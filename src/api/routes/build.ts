/**
 * POST /build (docker's classic builder's endpoint, what `DOCKER_BUILDKIT=0 docker build` and
 * docker-compose 1.29 call) and POST /build/prune, over the Engine's builder (src/build).
 * The body is the context as a tar; the answer is docker's JSON stream: {"stream": ...} lines
 * for the steps and their output, {"aux": {"ID": ...}} with the image, then "Successfully
 * built" and "Successfully tagged" lines; a failure is the stream's error line.
 *
 * Parameters the builder carries out: dockerfile, t, buildargs, labels, target, nocache,
 * pull, networkmode, platform, q. rm and forcerm are brig's behaviour always (no step's
 * container is kept). Resource limits for RUN steps and a remote context are refused when
 * asked for, never ignored.
 */
import type { BuildImageOptions } from '../../engine/engine.js';
import { familiarReference, parseReference } from '../../image/reference.js';
import { badRequest, ApiError } from '../errors.js';
import { JsonMessages } from '../json-messages.js';
import { queryList } from '../query-list.js';
import { drainRequest } from '../request-drain.js';
import type { RouteModule } from '../router.js';

/** A JSON object of strings in a query parameter (buildargs, labels); a null value is an unset arg. */
function jsonMap(text: string | undefined, name: string): Record<string, string> | undefined {
  if (text === undefined || text === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw badRequest(`${name}: not JSON: ${(e as Error).message}`);
  }
  if (v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${name}: expected a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null) continue;
    if (typeof x !== 'string') throw badRequest(`${name}.${k}: expected a string`);
    out[k] = x;
  }
  return out;
}

/** Limits the classic builder applies to RUN steps: brig's builder has none, so only their zero values pass. */
const LIMITS = ['memory', 'memswap', 'cpushares', 'cpuperiod', 'cpuquota', 'shmsize'];

export const buildRoutes: RouteModule = (r) => {
  r.add('POST', '/build', async ({ engine, x, query }) => {
    const remote = query.string('remote');
    if (remote !== undefined && remote !== '') {
      drainRequest(x.req);
      throw new ApiError(501, 'remote: a build context from a URL is not supported by brig; send the context as the body');
    }
    for (const name of LIMITS) {
      const v = query.int(name);
      if (v !== undefined && v !== 0 && !(name === 'memswap' && v === -1)) throw badRequest(`${name}: limits on build steps are not supported by brig`);
    }
    const cacheFrom = query.string('cachefrom');
    if (cacheFrom !== undefined && cacheFrom !== '' && cacheFrom !== '[]' && cacheFrom !== 'null') throw badRequest('cachefrom: not supported by brig (its cache is local)');
    const network = query.string('networkmode');
    const quiet = query.bool('q');
    const opts: BuildImageOptions = {
      dockerfile: query.string('dockerfile') || 'Dockerfile',
      tags: queryList(x.req, 't').filter(Boolean),
      ...(query.string('target') ? { target: query.string('target')! } : {}),
      ...(jsonMap(query.string('buildargs'), 'buildargs') ? { buildArgs: jsonMap(query.string('buildargs'), 'buildargs')! } : {}),
      ...(jsonMap(query.string('labels'), 'labels') ? { labels: jsonMap(query.string('labels'), 'labels')! } : {}),
      noCache: query.bool('nocache'),
      pull: query.bool('pull'),
      ...(network !== undefined && network !== '' ? { network: network === 'bridge' ? 'default' : network } : {}),
      ...(query.string('platform') ? { platform: query.string('platform')! } : {}),
      signal: x.signal,
    };
    const out = new JsonMessages(x);
    // The classic builder's words, step by step (the CLI prints `stream` as it comes).
    if (!quiet) {
      opts.onProgress = (p) => {
        if (p.type === 'step') out.write({ stream: `Step ${p.id} : ${p.name}\n` });
        else if (p.type === 'log') out.write({ stream: p.text.endsWith('\n') ? p.text : `${p.text}\n` });
        else if (p.type === 'cached') out.write({ stream: ' ---> Using cache\n' });
        else if (p.type === 'info') out.write({ stream: `${p.text}\n` });
      };
    }
    try {
      const result = await engine.buildImage({ tar: x.req }, opts).finally(() => drainRequest(x.req));
      out.write({ aux: { ID: result.id } });
      if (!quiet) {
        out.write({ stream: `Successfully built ${result.id.replace(/^sha256:/, '').slice(0, 12)}\n` });
        // docker names each tag in its short form (`app:1`, not `docker.io/library/app:1`).
        for (const t of result.tags) out.write({ stream: `Successfully tagged ${familiarReference(parseReference(t))}\n` });
      } else {
        // q=1: the image id alone is the output, which `docker build -q` prints.
        out.write({ stream: `${result.id}\n` });
      }
      out.end();
    } catch (e) {
      out.error(e);
    }
  });

  r.add('POST', '/build/prune', async ({ engine, x }) => {
    const r2 = await engine.pruneBuildCache();
    x.send(200, { CachesDeleted: r2.CachesDeleted, SpaceReclaimed: r2.SpaceReclaimed });
  });
};
