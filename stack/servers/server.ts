import type { Config } from '@paystream/common/config';
import type { AptInstall, CachePaths } from '../process';

/** One local server, as the launcher drives it. Each server file exports a factory returning one of these. */
export interface LocalServer {
  readonly name: string;
  /** Every port it listens on: a taken port with no pid file of ours means something else is there. */
  readonly ports: number[];
  /** Fetch/build once; fast when cached. Resolves to what `start` runs (a binary path or install dir). */
  install(): Promise<string>;
  /** Already answering (started by us earlier, or by someone else). */
  ready(): Promise<boolean>;
  /** Starts it from what `install` returned and waits until it really answers. */
  start(installed: string): Promise<void>;
  /** Stops what `start` recorded in the pid file; false when there was nothing of ours to stop. */
  stop(): Promise<boolean>;
  /** Idempotent set-up on a server that answers (databases, topics); `up` runs it on every server it selected. */
  provision?(): Promise<void>;
  describe(): string;
}

/** What a server factory is given: the configuration it serves, where the cache is, and how to apt-get. */
export interface ServerDeps {
  cfg: Config;
  paths: CachePaths;
  aptInstall: AptInstall;
}
