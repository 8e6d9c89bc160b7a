/**
 * Chain IDs (OCI image spec, "Layer ChainID"): the identity of a stack of layers, so a
 * snapshot of "these layers applied in this order" is shared by every image built on it.
 *   ChainID(L0) = DiffID(L0)
 *   ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln))
 */
import { sha256 } from './digest.js';

export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256(`${prev} ${d}`));
  }
  return out;
}
