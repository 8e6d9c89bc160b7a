/**
 * NetworkBackend: what brig asks of the program that wires a container's network namespace
 * to a network (netavark today; CNI plugins or a rootless pasta later).
 *
 * The model, as podman's: brig owns the *allocation* and the *records* — which networks exist
 * (name, subnet, gateway, bridge interface), which address each container got, which host
 * ports it holds — and the network namespace file (/run/brig/netns/<id>) the container joins.
 * The backend owns everything it creates *from* those: the bridge, the veth pair, the
 * firewall rules (forwarding, masquerade, port DNAT) and the DNS records of the network's
 * resolver. So a backend is called with a fully resolved request — addresses chosen, host
 * ports chosen — and `teardown` with the same request removes exactly what `setup` made.
 * Because the request is data, it is also written to a file at setup: the container's
 * monitor runs `teardownCommand` when the container ends for good, without Node, and an
 * engine start-up sweep can undo a setup whose brig was killed, from the file alone.
 *
 * A backend must make `teardown` idempotent (a second teardown, or one after a half-done
 * setup, succeeds) and leave nothing when `setup` fails half-way.
 */

/** One network as the backend needs it (brig's record, resolved). */
export interface BackendNetwork {
  name: string;
  /** 64 hex digits. */
  id: string;
  /** The host-side bridge interface. */
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  /** Run a resolver on the gateway that answers the network's container names and aliases. */
  dns: boolean;
  options: Record<string, string>;
}

/** A container's place on one network. */
export interface BackendAttachment {
  network: BackendNetwork;
  /** The container's address, chosen by brig's allocator. */
  ip: string;
  /** The interface in the container (eth0, eth1, ...). */
  ifname: string;
  /** Names the network's resolver answers with `ip` (container name, aliases, short id). */
  aliases: string[];
  /** A MAC address asked for (--mac-address); else the kernel picks one. */
  mac?: string;
}

/** A published port, resolved: host port chosen. */
export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** Consecutive ports from hostPort and containerPort (docker's ranges). */
  range: number;
}

export interface SetupRequest {
  containerId: string;
  containerName: string;
  /** The network namespace file the container joins. */
  netns: string;
  attachments: BackendAttachment[];
  ports: PortMapping[];
}

/** What came of one attachment: the interface as the kernel has it. */
export interface AttachmentResult {
  network: string;
  ifname: string;
  mac: string;
  ip: string;
  prefixLen: number;
  gateway: string;
}

export interface SetupResult {
  attachments: AttachmentResult[];
  /** Where the container's resolver is (the gateways of networks with DNS). */
  dnsServers: string[];
}

export interface NetworkBackend {
  readonly name: string;
  /** Missing binaries and the like, as a message; undefined when usable. */
  unavailable(): string | undefined;
  setup(req: SetupRequest, opts?: { signal?: AbortSignal }): Promise<SetupResult>;
  /**
   * Optional: make the namespace file `req.netns` (which must not hold one yet) and wire it,
   * in one process. `made` settles once the file holds the namespace (the container can be
   * started in it), `done` once the setup has; undefined where the backend cannot for this
   * request (the caller makes the file and calls setup). A failure of either leaves the setup
   * undone; the file is the caller's to remove.
   */
  setupNewNetns?(req: SetupRequest): { made: Promise<void>; done: Promise<SetupResult> } | undefined;
  /**
   * `releaseNetns`: the namespace goes too (the container has ended for good), and the backend
   * may unmount and remove its file after the teardown, in the same process; the caller's
   * removal then finds nothing left.
   */
  teardown(req: SetupRequest, opts?: { signal?: AbortSignal; releaseNetns?: boolean }): Promise<void>;
  /**
   * An argv that tears `req` down without Node (run by the container's monitor when the
   * container ends for good). `file` is where the request is to be kept for it.
   */
  teardownCommand(req: SetupRequest, file: string): Promise<{ argv: string[]; env: string[] }>;
  /**
   * Undo what the backend leaves on the host once no container uses it any more (shared
   * firewall chains, say). Called when brig has no network namespace left.
   */
  idle(): Promise<void>;
  /** Whether idle() has anything to do (cheap: no process start). */
  mayHaveChains(): boolean;
  /**
   * At engine start: what a backend call killed half-way left in the backend's own files
   * (a request file, say). Runs at every brig start, so a directory read at most.
   */
  sweep(): Promise<void>;
}
