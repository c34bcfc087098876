/** Redis: the gateway replicas' shared rate-limit buckets. Debian's package (Valkey speaks the same protocol). */
import net from 'node:net';
import { startDaemon, stopDaemon, timed, waitFor, which } from '../process';
import type { LocalServer, ServerDeps } from './server';

const BINARY = '/usr/bin/redis-server';

/** PING over RESP on a fresh connection: +PONG is the answer of a server that is up. */
export function redisPing(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export function redisServer({ cfg, paths, aptInstall }: ServerDeps): LocalServer {
  const port = cfg.REDIS_PORT;
  return {
    name: 'redis',
    ports: [port],
    async install() {
      if (!which('redis-server'))
        await timed('apt-get install redis-server (first run only)', () =>
          Promise.resolve(aptInstall('redis-server')),
        );
      return which('redis-server') ? 'redis-server' : BINARY;
    },
    ready: () => redisPing(port),
    async start(binary) {
      // In memory only, as the buckets need: nothing is worth a disk write, and a restart refills them.
      const logFile = startDaemon(paths, 'redis', binary, [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'volatile-ttl',
        '--dir',
        paths.cache,
      ]);
      await waitFor('redis', () => redisPing(port), 15_000, logFile);
    },
    stop: () => stopDaemon(paths.run, 'redis'),
    describe: () => `redis        redis://127.0.0.1:${port} (the gateway replicas' shared rate limits)`,
  };
}
