/**
 * Every resource's routes, one file each: a new resource (images, volumes, networks, build)
 * is one more line here.
 */
import type { RouteModule } from '../router.js';
import { buildRoutes } from './build.js';
import { containerRoutes } from './containers.js';
import { execRoutes } from './exec.js';
import { imageRoutes } from './images.js';
import { networkRoutes } from './networks.js';
import { systemRoutes } from './system.js';
import { volumeRoutes } from './volumes.js';

export const ROUTES: RouteModule[] = [systemRoutes, containerRoutes, execRoutes, imageRoutes, volumeRoutes, networkRoutes, buildRoutes];
