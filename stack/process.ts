/**
 * Process helpers for the local stack launcher: run a command (to the console or to a log file), start a
 * long-running server in its own process group with a pid file, stop it by that pid file, probe ports and
 * HTTP, wait until a server answers, apt-get and `go install` into the cache. Nothing here knows a server.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Where everything of the stack lives: built binaries, pid files and logs, all under one cache folder. */
export interface CachePaths {
  cache: string;
  bin: string;
  run: string;
  logs: string;
}

export function cachePaths(cache: string): CachePaths {
  return {
    cache,
    bin: path.join(cache, 'bin'),
    run: path.join(cache, 'run'),
    logs: path.join(cache, 'logs'),
  };
}

export const isRoot = process.getuid?.() === 0;

export function log(msg: string): void {
  process.stdout.write(`[stack] ${msg}\n`);
}

export async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
}

export function run(cmd: string, args: string[], opts: SpawnOptions & { what?: string } = {}): void {
  const res = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (res.error) throw new Error(`${opts.what ?? cmd}: ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`${opts.what ?? cmd} exited with ${res.status}: ${cmd} ${args.join(' ')}`);
}

/** Runs a command and captures its output to a log file (so a slow build does not flood the console). */
export function runLogged(
  logs: string,
  cmd: string,
  args: string[],
  logName: string,
  opts: SpawnOptions = {},
): Promise<void> {
  fs.mkdirSync(logs, { recursive: true });
  const logFile = path.join(logs, logName);
  const out = fs.openSync(logFile, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', out, out], ...opts });
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message}`)));
    child.on('exit', (code) => {
      fs.closeSync(out);
      if (code === 0) resolve();
      else {
        const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}; see ${logFile}\n${tail}`));
      }
    });
  });
}

export function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export type AptInstall = (...packages: string[]) => void;

/** apt-get install as root, with one `apt-get update` per launcher (not per package). */
export function createAptInstall(): AptInstall {
  let updated = false;
  return (...packages) => {
    if (!isRoot)
      throw new Error(`missing ${packages.join(', ')}: install them (apt-get install ${packages.join(' ')})`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!updated) run('apt-get', ['update', '-qq'], { env, what: 'apt-get update' });
    updated = true;
    run(
      'apt-get',
      [
        'install',
        '-y',
        '-qq',
        '--no-install-recommends',
        '-o',
        'Dpkg::Options::=--force-confold',
        ...packages,
      ],
      { env, what: 'apt-get install' },
    );
  };
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until the server really answers; on timeout the error carries the tail of its log. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail =
    logFile && fs.existsSync(logFile)
      ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n')
      : '';
  throw new Error(
    `${what} did not become ready within ${timeoutMs / 1000}s${tail ? `; last log lines:\n${tail}` : ''}`,
  );
}

export async function httpOk(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
  return res.ok;
}

export function pidFile(run: string, name: string): string {
  return path.join(run, `${name}.pid`);
}

export function readPid(run: string, name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(run, name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start a long-running server in its own process group, output to a log file, pid recorded. */
export function startDaemon(
  paths: CachePaths,
  name: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): string {
  fs.mkdirSync(paths.run, { recursive: true });
  fs.mkdirSync(paths.logs, { recursive: true });
  const logFile = path.join(paths.logs, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? paths.cache,
  });
  fs.closeSync(out);
  if (!child.pid) throw new Error(`could not start ${name} (${cmd})`);
  fs.writeFileSync(pidFile(paths.run, name), String(child.pid));
  child.unref();
  return logFile;
}

/** Stops what the pid file names; false when there is no pid file (so not ours to stop). */
export async function stopDaemon(run: string, name: string): Promise<boolean> {
  const pid = readPid(run, name);
  if (!pid) return false;
  if (alive(pid)) {
    try {
      process.kill(-pid, 'SIGTERM'); // the whole process group: wrappers and their children
    } catch {
      process.kill(pid, 'SIGTERM');
    }
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        process.kill(pid, 'SIGKILL');
      }
    }
  }
  fs.rmSync(pidFile(run, name), { force: true });
  return true;
}

/**
 * Runs `work` holding the cache's install lock (a directory: creating it is atomic), so two processes never
 * fetch or build the same thing at once — `./paystream test` installs ahead in the background while the build
 * and lint run, and the test run's own install waits for it, then finds everything cached. A lock whose
 * holder died is taken over.
 */
export async function withInstallLock<T>(paths: CachePaths, work: () => Promise<T>): Promise<T> {
  const lock = path.join(paths.cache, 'install.lock');
  fs.mkdirSync(paths.cache, { recursive: true });
  for (let waited = false; ;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(path.join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      if (holder && !alive(holder)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!waited) log('waiting for the install running ahead (the install lock)');
      waited = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** `go install` a pinned module into the cache, keyed on its version. */
export async function goBinary(
  paths: CachePaths,
  name: string,
  modulePath: string,
  version: string,
): Promise<string> {
  const target = path.join(paths.bin, `${name}-${version}`);
  if (fs.existsSync(target)) return target;
  if (!which('go')) throw new Error('Go is required to build the local servers (https://go.dev/dl)');
  const gobin = path.join(paths.cache, 'gobin', `${name}-${version}`);
  fs.mkdirSync(gobin, { recursive: true });
  await timed(`build ${name} ${version} (first run only)`, () =>
    runLogged(paths.logs, 'go', ['install', `${modulePath}@${version}`], `build-${name}.log`, {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
    }),
  );
  fs.mkdirSync(paths.bin, { recursive: true });
  fs.renameSync(path.join(gobin, path.basename(modulePath)), target);
  return target;
}

/**
 * A Go program kept in this repository (its own go.mod and go.sum pin every dependency), built once into
 * the cache under a name keyed on its sources, so an edit rebuilds it and nothing else does.
 */
export async function goSourceBinary(paths: CachePaths, name: string, dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(dir).sort())
    hash.update(file).update(fs.readFileSync(path.join(dir, file)));
  const target = path.join(paths.bin, `${name}-${hash.digest('hex').slice(0, 12)}`);
  if (fs.existsSync(target)) return target;
  if (!which('go')) throw new Error(`Go is required to build ${name} (https://go.dev/dl)`);
  fs.mkdirSync(paths.bin, { recursive: true });
  // Built under a name of its own: two processes building it at once each rename a whole binary into place.
  const tmp = `${target}.${process.pid}.tmp`;
  await timed(`build ${name} (first run only)`, () =>
    runLogged(paths.logs, 'go', ['build', '-trimpath', '-o', tmp, '.'], `build-${name}-${process.pid}.log`, {
      cwd: dir,
      env: { ...process.env, CGO_ENABLED: '0' },
    }),
  );
  fs.renameSync(tmp, target);
  return target;
}

/** `pip install` a pinned PyPI package into a venv of its own in the cache; resolves to the venv. */
export async function pipTool(
  paths: CachePaths,
  aptInstall: AptInstall,
  name: string,
  version: string,
): Promise<string> {
  const venv = path.join(paths.cache, `${name}-${version}`);
  if (fs.existsSync(path.join(venv, 'bin', name))) return venv;
  if (!which('python3')) aptInstall('python3', 'python3-venv');
  await timed(`pip install ${name} ${version} (first run only)`, async () => {
    await runLogged(paths.logs, 'python3', ['-m', 'venv', venv], `venv-${name}.log`);
    await runLogged(
      paths.logs,
      path.join(venv, 'bin', 'pip'),
      ['install', '-q', `${name}==${version}`],
      `pip-${name}.log`,
    );
  });
  return venv;
}
