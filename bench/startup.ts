/**
 * `npm run bench -- --startup`: each service started from the sources (tsx) and from the build (node on
 * dist/, as the image runs it), one at a time: milliseconds from spawn to /readyz 200, CPU spent getting
 * there, and RSS after ten idle seconds. Writes bench/results/startup-latest.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_NAMES, startService, stopService, waitReady, type ServiceName } from '../scripts/services';
import { usage } from './processes';

const MODES = ['source', 'built'] as const;
type Mode = (typeof MODES)[number];
interface Startup {
  readyMs: number;
  cpuMs: number;
  idleRssMb: number;
}

async function measure(name: ServiceName, mode: Mode): Promise<Startup> {
  const started = Date.now();
  const service = startService(name, { ...process.env, LOG_LEVEL: 'warn', PAYSTREAM_RUN_FROM: mode });
  try {
    await waitReady(service, 120_000);
    const readyMs = Date.now() - started;
    const { cpuMs } = usage({ [name]: service.child.pid! })[name]!;
    await new Promise((r) => setTimeout(r, 10_000));
    const { rssMb } = usage({ [name]: service.child.pid! })[name]!;
    return { readyMs, cpuMs: Math.round(cpuMs), idleRssMb: Math.round(rssMb) };
  } finally {
    await stopService(service);
  }
}

export async function runStartup(): Promise<void> {
  const results: Record<string, Record<Mode, Startup>> = {};
  for (const name of SERVICE_NAMES) {
    const byMode = {} as Record<Mode, Startup>;
    for (const mode of MODES) byMode[mode] = await measure(name, mode);
    results[name] = byMode;
  }
  console.log(
    '\nStart-up: spawn → /readyz 200, CPU to get there, RSS after 10 s idle (source = tsx, built = node dist/)',
  );
  console.log(
    'service        ready ms (source → built)   CPU ms (source → built)   idle RSS MB (source → built)',
  );
  for (const [name, r] of Object.entries(results))
    console.log(
      `${name.padEnd(14)} ${`${r.source.readyMs} → ${r.built.readyMs}`.padEnd(27)} ${`${r.source.cpuMs} → ${r.built.cpuMs}`.padEnd(25)} ${r.source.idleRssMb} → ${r.built.idleRssMb}`,
    );
  const out = path.join(__dirname, 'results', 'startup-latest.json');
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
  console.log(`[bench] wrote ${path.relative(process.cwd(), out)}`);
}
