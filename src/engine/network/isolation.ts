/**
 * Isolation between bridge networks, as docker's DOCKER-ISOLATION-STAGE-1/2 chains have it: a
 * packet that leaves one brig bridge for another is dropped, so a container reaches a
 * container of another network only through a network they share.
 *
 * netavark 1.4 does most of it with its `isolate` option, which brig gives every network:
 * NETAVARK_ISOLATION_1 gets `-i BR ! -o BR -j NETAVARK_ISOLATION_2`, NETAVARK_ISOLATION_2
 * gets `-o BR -j DROP`, and FORWARD jumps to NETAVARK_ISOLATION_1. Two gaps are brig's:
 *
 * - netavark 1.4 deletes FORWARD's jump with the *first* network torn down completely
 *   (the rule's teardown policy is per network, the rule is shared), so every other network
 *   loses its isolation then. brig keeps a jump of its own (a comment makes it a different
 *   rule, which netavark's delete does not match).
 * - An --internal network gets no firewall rules from netavark at all (it only turns
 *   forwarding off on its bridge, so nothing gets out), so nothing keeps other networks' packets
 *   from getting in. `-o brig+ -j DROP` in NETAVARK_ISOLATION_2 covers every bridge brig names
 *   (an internal network's bridge named with -o com.docker.network.bridge.name is not covered).
 *
 * Both are made once, with the first setup after the host had none (a marker file says they
 * are there: a file test, no process start, on every later setup), and go with netavark's
 * other shared chains when no isolated network is left (`removeIsolation`).
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { BrigError } from '../../errors/index.js';
import { runLocked } from './host-lock.js';

/** Present while brig's jump and drop rule are (or may be) in place. */
export const ISOLATION_MARKER = '/run/brig/network.isolation';

const JUMP = `-m comment --comment "brig network isolation" -j NETAVARK_ISOLATION_1`;
const DROP_INTO_BRIG = '-o brig+ -j DROP';

/**
 * After netavark's setup, under the network lock (a hold of its own): brig's jump must precede netavark's
 * `-j NETAVARK_FORWARD` (which accepts everything from a network's subnet), and netavark
 * inserts that near the top when it makes it.
 */
export async function ensureIsolation(): Promise<void> {
  if (existsSync(ISOLATION_MARKER)) return;
  const ipt = 'iptables -w -t filter';
  // One shell for the four commands: made once while networks are in use, not per container.
  const script = [
    `${ipt} -N NETAVARK_ISOLATION_1 2>/dev/null`,
    `${ipt} -N NETAVARK_ISOLATION_2 2>/dev/null`,
    `${ipt} -C NETAVARK_ISOLATION_2 ${DROP_INTO_BRIG} 2>/dev/null || ${ipt} -A NETAVARK_ISOLATION_2 ${DROP_INTO_BRIG} || exit 1`,
    `${ipt} -C FORWARD ${JUMP} 2>/dev/null || ${ipt} -I FORWARD 1 ${JUMP} || exit 1`,
  ].join('\n');
  try {
    await runLocked(['sh', '-c', script]);
  } catch (e) {
    throw new BrigError('SYSTEM', `cannot set up the isolation between networks (iptables): ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`, { cause: e });
  }
  // Only once all is in place (the commands are idempotent: a kill half-way is made good next time).
  writeFileSync(ISOLATION_MARKER, '');
}

/**
 * When no network is isolated any more (NETAVARK_ISOLATION_1 holds no rule: netavark removed
 * every network's with its last container), brig's jump, its drop rule and the two chains go,
 * under the network lock. Another netavark user's isolated network keeps them all. Whatever
 * the marker says: an ensureIsolation killed half-way left rules and no marker.
 */
export async function removeIsolation(): Promise<void> {
  const ipt = 'iptables -w -t filter';
  const script = [
    // -S prints the chain's -N line and one line per rule: more than one line, a network is isolated.
    `[ "$(${ipt} -S NETAVARK_ISOLATION_1 2>/dev/null | wc -l)" -le 1 ] || exit 3`,
    `${ipt} -D FORWARD ${JUMP} 2>/dev/null`,
    `${ipt} -D FORWARD -j NETAVARK_ISOLATION_1 2>/dev/null`,
    `${ipt} -D NETAVARK_ISOLATION_2 ${DROP_INTO_BRIG} 2>/dev/null`,
    `{ [ "$(${ipt} -S NETAVARK_ISOLATION_2 2>/dev/null | wc -l)" -gt 1 ] || ${ipt} -X NETAVARK_ISOLATION_2 2>/dev/null; }`,
    `${ipt} -X NETAVARK_ISOLATION_1 2>/dev/null`,
    'exit 0',
  ].join('\n');
  const gone = await runLocked(['sh', '-c', script]).then(
    () => true,
    () => false,
  );
  if (gone) rmSync(ISOLATION_MARKER, { force: true });
}
