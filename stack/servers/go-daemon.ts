/** A server that is one Go binary, built into the cache at a pinned version and run as a daemon. */
import { goBinary, startDaemon, stopDaemon, waitFor, type CachePaths } from '../process';
import type { LocalServer } from './server';

export interface GoDaemonSpec {
  name: string;
  /** Go module path of the binary, and its pinned version. */
  module: string;
  version: string;
  ports: number[];
  args: string[];
  answers: () => Promise<boolean>;
  describe: string;
}

export function goDaemon(paths: CachePaths, spec: GoDaemonSpec): LocalServer {
  return {
    name: spec.name,
    ports: spec.ports,
    /** Resolves to the binary. */
    install: () => goBinary(paths, spec.name, spec.module, spec.version),
    ready: spec.answers,
    async start(binary) {
      const logFile = startDaemon(paths, spec.name, binary, spec.args);
      await waitFor(spec.name, spec.answers, 30_000, logFile);
    },
    stop: () => stopDaemon(paths.run, spec.name),
    describe: () => spec.describe,
  };
}
