/**
 * The host's bridges and subnets are one namespace for every brig on the machine, whatever
 * its data root: two roots that each picked `brig0` and 10.88.0.0/16 (the first free ones
 * while the other's bridge was down: netavark removes a bridge with its last container)
 * would put their containers on one bridge with one address plan, hand out the same
 * addresses twice, and share netavark's firewall chains. A network's claim says which root
 * holds which bridge and subnet: one file per network in /run/brig/networks (host-wide, like
 * the netavark lock), naming the record that made it. A claim whose record is gone (its root
 * removed, or the network removed by a brig killed before it released the claim) holds
 * nothing. /run empties at boot; a network claims again at its next use.
 *
 * Every read and change of claims runs under one host-wide lock.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withLock } from '../../image/store/lock.js';

export const CLAIMS_DIR = '/run/brig/networks';

export interface Claim {
  /** The network's record file: the claim holds while it exists. */
  record: string;
  bridge: string;
  subnet: string;
}

export class HostClaims {
  constructor(private readonly dir: string = CLAIMS_DIR) {}

  /** Runs fn holding the claims' lock. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(path.join(this.dir, 'lock'), fn);
  }

  /** Live claims other than those of records under `exceptDir` (the caller's own root); stale ones are removed. */
  others(exceptDir: string): Claim[] {
    const out: Claim[] = [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return out;
    }
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const file = path.join(this.dir, n);
      let c: Claim;
      try {
        c = JSON.parse(readFileSync(file).toString('utf8')) as Claim;
      } catch {
        continue; // being written (renamed into place: never half a file) or not ours
      }
      if (typeof c.record !== 'string' || !existsSync(c.record)) {
        rmSync(file, { force: true });
        continue;
      }
      if (path.dirname(c.record) !== exceptDir) out.push(c);
    }
    return out;
  }

  /** Claims (or claims again) a network's bridge and subnet for its record. */
  claim(id: string, c: Claim): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, `.${id}.${process.pid}`);
    writeFileSync(tmp, JSON.stringify(c), { mode: 0o600 });
    renameSync(tmp, path.join(this.dir, `${id}.json`));
  }

  /** Whether this network has a claim of its own. */
  has(id: string): boolean {
    return existsSync(path.join(this.dir, `${id}.json`));
  }

  release(id: string): void {
    rmSync(path.join(this.dir, `${id}.json`), { force: true });
  }
}
