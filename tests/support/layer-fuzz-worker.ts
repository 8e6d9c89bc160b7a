/** Worker thread for the layer fuzz test: runs cases until its time is up, reporting each one. */
import { parentPort, workerData } from 'node:worker_threads';
import { applierCase, readerCase } from './layer-fuzz.js';

const { target, seed, seconds, work, overlay } = workerData as {
  target: 'reader' | 'applier';
  seed: number;
  seconds: number;
  work: string;
  overlay: boolean;
};
const end = Date.now() + seconds * 1000;
for (let s = seed; Date.now() < end; s++) {
  parentPort!.postMessage({ started: s });
  try {
    const result = target === 'reader' ? await readerCase(s) : await applierCase(s, `${work}/c`, overlay && s % 2 === 0);
    parentPort!.postMessage({ done: s, result });
  } catch (e) {
    parentPort!.postMessage({ crash: s, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    break;
  }
}
parentPort!.postMessage({ finished: true });
