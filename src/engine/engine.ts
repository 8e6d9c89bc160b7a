/**
 * The Engine: what every front end (the brig CLI, `brig serve`, the SDK) calls. Handlers
 * return data; front ends render it. Local (in-process) now; a remote implementation over
 * the Engine API will satisfy the same interface.
 */
export interface RunContainerOptions {
  image: string;
  /** Command and arguments; empty means the image's default. */
  cmd: string[];
  name?: string;
  env?: string[];
  workdir?: string;
  /** "uid" or "uid:gid" (numeric). */
  user?: string;
  hostname?: string;
  /** Remove the container when it exits. */
  rm: boolean;
  /** fds for the container's stdin, stdout, stderr. */
  stdio: [number | 'ignore', number | 'ignore', number | 'ignore'];
  signal?: AbortSignal;
}

export interface RunningContainer {
  id: string;
  pid: number;
  /** Resolves with the exit code once the container has exited and been cleaned up. */
  exit: Promise<number>;
  /** Sends a signal to the container's init. */
  kill(signal: number): void;
}

export interface ImageSummary {
  name: string;
  builtin: boolean;
  description: string;
}

export interface Engine {
  runContainer(opts: RunContainerOptions): Promise<RunningContainer>;
  listImages(): Promise<ImageSummary[]>;
}
