/**
 * Images: list, inspect, history, pull and import (POST /images/create), push, tag, delete,
 * save (GET /images/get), load, prune, commit, and the registry's view of a reference (GET
 * /distribution/{name}/json). Progress goes as docker's JSON messages (json-messages.ts);
 * credentials come in X-Registry-Auth (registry-auth.ts). Archives stream both ways.
 */
import { familiarReference, formatReference, type ImageInspect, type ImageSummary, parseReference } from '../../engine/engine.js';
import { check, readJson } from '../body.js';
import { ApiError, badRequest } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { JsonMessages } from '../json-messages.js';
import { queryList } from '../query-list.js';
import { registryAuth } from '../registry-auth.js';
import { drainRequest } from '../request-drain.js';
import { type RouteModule, versionAtLeast } from '../router.js';

/** A saved archive, streamed as it is made (the engine has resolved every name before the first byte). */
function sendTar(x: Exchange): (tar: AsyncIterable<Buffer>) => Promise<void> {
  return async (tar) => {
    const out = x.stream(200, { 'Content-Type': 'application/x-tar' });
    for await (const chunk of tar) if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
    out.end();
  };
}

/**
 * docker's RepoTagReference: `repo` with `tag` (a digest is refused: one cannot tag by
 * content), or nothing when there is no repo.
 */
function repoTag(repo: string | undefined, tag: string | undefined): string | undefined {
  if (repo === undefined || repo === '') return undefined;
  if (tag !== undefined && tag !== '' && tag.startsWith('sha256:')) throw badRequest('refusing to create a tag with a digest reference');
  const ref = parseReference(repo, { defaultTag: false });
  if (ref.digest !== undefined) throw badRequest('refusing to create a tag with a digest reference');
  return formatReference({ ...ref, tag: tag !== undefined && tag !== '' ? tag : (ref.tag ?? 'latest') });
}

/** `fromImage` with `tag` (which may be a digest), as docker's image router joins them; name-only means every tag. */
function pullReference(fromImage: string, tag: string | undefined): { reference: string; allTags: boolean } {
  const ref = parseReference(fromImage, { defaultTag: false });
  if (tag !== undefined && tag !== '') {
    const named = /^[a-z0-9]+:[a-f0-9]{32,}$/.test(tag) ? { ...ref, tag: undefined, digest: tag } : { ...ref, tag };
    return { reference: formatReference(named), allTags: false };
  }
  return { reference: formatReference(ref), allTags: ref.tag === undefined && ref.digest === undefined };
}

/** The fields docker dropped in 1.44 (VirtualSize), given to older clients as docker does. */
function listWire(images: ImageSummary[], version: string): (ImageSummary & { VirtualSize?: number })[] {
  return versionAtLeast(version, '1.44') ? images : images.map((i) => ({ ...i, VirtualSize: i.Size }));
}

function inspectWire(image: ImageInspect, version: string): ImageInspect & { VirtualSize?: number } {
  return versionAtLeast(version, '1.44') ? image : { ...image, VirtualSize: (image as { Size?: number }).Size ?? 0 };
}

export const imageRoutes: RouteModule = (r) => {
  r.add('GET', '/images/json', async ({ engine, x, query, version }) => {
    // `digests` only asked older daemons for RepoDigests, which are always given now.
    const filters = query.filters();
    const images = await engine.listImages({ all: query.bool('all'), ...(filters ? { filters } : {}), sharedSize: query.bool('shared-size') });
    x.send(200, listWire(images, version));
  });

  r.add('GET', '/images/search', async () => {
    throw new ApiError(501, 'brig does not search registries: the search API is Docker Hub\'s own (and other registries do not offer it); pull by name, or list a registry\'s tags with its /v2/<name>/tags/list');
  });

  r.add('GET', '/images/get', async ({ engine, x }) => {
    const names = queryList(x.req, 'names');
    if (names.length === 0) throw badRequest('names: at least one image is required');
    await engine.saveImages(names, sendTar(x));
  });

  r.add('POST', '/images/load', async ({ engine, x }) => {
    // docker always answers 200 here and says a failure in the stream (image_routes.go
    // postImagesLoad). `quiet` turns off docker's per-layer progress, which brig does not
    // send anyway: quiet or not, the names loaded.
    const out = new JsonMessages(x);
    try {
      const r = await engine.loadImages(x.req, { signal: x.signal }).finally(() => drainRequest(x.req));
      for (const name of r.loaded) out.write({ stream: `Loaded image: ${familiarReference(parseReference(name))}\n` });
      for (const id of r.ids) out.write({ stream: `Loaded image ID: ${id}\n` });
      out.end();
    } catch (e) {
      out.error(e);
    }
  });

  r.add('POST', '/images/create', async ({ engine, x, query }) => {
    const fromImage = query.string('fromImage');
    const fromSrc = query.string('fromSrc');
    const platform = query.string('platform');
    const out = new JsonMessages(x);
    if (fromImage !== undefined && fromImage !== '') {
      const { reference, allTags } = pullReference(fromImage, query.string('tag'));
      const auth = registryAuth(x.req);
      await out.run(async () => {
        await engine.pullImage(reference, { allTags, ...(platform ? { platform } : {}), ...(auth ? { auth } : {}), signal: x.signal, onProgress: (m) => out.write(m) });
      });
      return;
    }
    if (fromSrc === undefined || fromSrc === '') throw badRequest('fromImage or fromSrc is required');
    if (fromSrc !== '-') throw new ApiError(501, `importing from a URL is not supported: ${fromSrc} (send the tarball as the body with fromSrc=-)`);
    const reference = repoTag(query.string('repo'), query.string('tag'));
    const message = query.string('message');
    const changes = queryList(x.req, 'changes');
    await out.run(async () => {
      const made = await engine
        .importImage(x.req, {
          ...(reference !== undefined ? { reference } : {}),
          ...(changes.length ? { changes } : {}),
          ...(message ? { message } : {}),
          ...(platform ? { platform } : {}),
          signal: x.signal,
        })
        .finally(() => drainRequest(x.req));
      out.write({ status: made.id });
    });
  });

  r.add('POST', '/images/prune', async ({ engine, x, query }) => {
    const filters = query.filters();
    x.send(200, await engine.pruneImages(filters ? { filters } : {}));
  });

  r.add('POST', '/commit', async ({ engine, x, query }) => {
    const container = query.string('container');
    // docker's words (daemon GetContainer's invalidIdentifier), as dockerd 20.10 answers too.
    if (container === undefined || container === '') throw badRequest('invalid name or ID supplied: ""');
    // The body is a container Config merged over the container's; brig applies `changes`
    // instead, and takes the body only empty (docker's CLI sends null).
    const body = await readJson(x);
    if (body !== undefined && body !== null) {
      if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('body: expected an object');
      check(body, { object: Object.fromEntries(Object.keys(body).map((k) => [k, 'zero' as const])) }, '');
    }
    const reference = repoTag(query.string('repo'), query.string('tag'));
    const comment = query.string('comment');
    const author = query.string('author');
    const changes = queryList(x.req, 'changes');
    const made = await engine.commitContainer(container, {
      ...(reference !== undefined ? { reference } : {}),
      ...(comment ? { comment } : {}),
      ...(author ? { author } : {}),
      ...(changes.length ? { changes } : {}),
      // docker: pause unless the request says pause=0 (an absent parameter is true since 1.13).
      pause: query.has('pause') ? query.bool('pause') : true,
    });
    x.send(201, made);
  });

  r.add('GET', '/distribution/{name*}/json', async ({ engine, x, params }) => {
    const auth = registryAuth(x.req);
    x.send(200, await engine.distributionInspect(params.name!, { signal: x.signal, ...(auth ? { auth } : {}) }));
  });

  r.add('GET', '/images/{name*}/json', async ({ engine, x, params, version }) => {
    x.send(200, inspectWire(await engine.inspectImage(params.name!), version));
  });

  r.add('GET', '/images/{name*}/history', async ({ engine, x, params }) => {
    x.send(200, await engine.imageHistory(params.name!));
  });

  r.add('GET', '/images/{name*}/get', async ({ engine, x, params }) => {
    await engine.saveImages([params.name!], sendTar(x));
  });

  r.add('POST', '/images/{name*}/tag', async ({ engine, x, params, query }) => {
    const target = repoTag(query.string('repo'), query.string('tag'));
    if (target === undefined) throw badRequest('repository name (repo) is required');
    await engine.tagImage(params.name!, target);
    x.send(201);
  });

  r.add('POST', '/images/{name*}/push', async ({ engine, x, params, query }) => {
    const tag = query.string('tag');
    const ref = parseReference(params.name!, { defaultTag: false });
    if (ref.digest !== undefined) throw badRequest(`cannot push a digest reference: ${params.name}`);
    const auth = registryAuth(x.req);
    // No tag anywhere: every local tag of the repository, as docker pushes them (push --all-tags).
    let references: string[];
    if ((tag === undefined || tag === '') && ref.tag === undefined) {
      const repo = familiarReference({ ...ref, tag: undefined, digest: undefined });
      const images = await engine.listImages({ filters: { reference: [repo] } });
      references = [...new Set(images.flatMap((i) => i.RepoTags))].filter((t) => familiarReference({ ...parseReference(t), tag: undefined }) === repo).sort();
      if (references.length === 0) throw new ApiError(404, `An image does not exist locally with the tag: ${repo}`);
    } else {
      references = [formatReference({ ...ref, tag: tag !== undefined && tag !== '' ? tag : ref.tag })];
    }
    const out = new JsonMessages(x);
    await out.run(async () => {
      for (const reference of references) await engine.pushImage(reference, { signal: x.signal, ...(auth ? { auth } : {}), onProgress: (m) => out.write(m) });
    });
  });

  r.add('DELETE', '/images/{name*}', async ({ engine, x, params, query }) => {
    // noprune keeps untagged parents: brig's images have no parent images, so there are none to keep.
    x.send(200, await engine.removeImage(params.name!, { force: query.bool('force') }));
  });
};
