/**
 * `npm run bench -- --startup`: the five services started from the sources (tsx) and from the build (node on
 * dist/, as the image runs them), one after another as `./paystream start` does (the gateway's readiness needs
 * user and order): milliseconds from spawn to /readyz 200, CPU spent getting there, and RSS after ten idle
 * seconds. Writes bench/results/startup-latest.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  SERVICE_NAMES,
  startService,
  stopService,
  waitReady,
  type RunningService,
} from '../scripts/services';
import { usage } from './processes';

const MODES = ['source', 'built'] as const;
type Mode = (typeof MODES)[number];
interface Startup {
  readyMs: number;
  cpuMs: number;
  idleRssMb: number;
}

async function measureMode(mode: Mode): Promise<Record<string, Startup>> {
  const running: RunningService[] = [];
  const ready: Record<string, { readyMs: number; cpuMs: number }> = {};
  try {
    for (const name of SERVICE_NAMES) {
      const started = Date.now();
      const service = startService(name, { ...process.env, LOG_LEVEL: 'warn', PAYSTREAM_RUN_FROM: mode });
      running.push(service);
      await waitReady(service, 120_000);
      const { cpuMs } = usage({ [name]: service.child.pid! })[name]!;
      ready[name] = { readyMs: Date.now() - started, cpuMs: Math.round(cpuMs) };
    }
    await new Promise((r) => setTimeout(r, 10_000));
    const idle = usage(Object.fromEntries(running.map((s) => [s.name, s.child.pid!])));
    return Object.fromEntries(
      running.map((s) => [s.name, { ...ready[s.name]!, idleRssMb: Math.round(idle[s.name]!.rssMb) }]),
    );
  } finally {
    await Promise.all(running.map((s) => stopService(s)));
  }
}

export async function runStartup(): Promise<void> {
  const byMode = { source: await measureMode('source'), built: await measureMode('built') };
  console.log(
    '\nStart-up: spawn → /readyz 200, CPU to get there, RSS after 10 s idle (source = tsx, built = node dist/)',
  );
  console.log(
    'service        ready ms (source → built)   CPU ms (source → built)   idle RSS MB (source → built)',
  );
  const results: Record<string, Record<Mode, Startup>> = {};
  for (const name of SERVICE_NAMES) {
    const r = { source: byMode.source[name]!, built: byMode.built[name]! };
    results[name] = r;
    console.log(
      `${name.padEnd(14)} ${`${r.source.readyMs} → ${r.built.readyMs}`.padEnd(27)} ${`${r.source.cpuMs} → ${r.built.cpuMs}`.padEnd(25)} ${r.source.idleRssMb} → ${r.built.idleRssMb}`,
    );
  }
  const out = path.join(__dirname, 'results', 'startup-latest.json');
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), modes: MODES, results }, null, 2));
  console.log(`[bench] wrote ${path.relative(process.cwd(), out)}`);
}
