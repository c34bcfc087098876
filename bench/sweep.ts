/**
 * `npm run bench -- --rate 10,20,40,60 --duration 30`: the open-loop rate sweep (open-loop.ts) against
 * Paystream, then the no-op Temporal floor at the same rates on the same server; prints a table per rate,
 * the knees and their ratio, and writes bench/results/open-loop-latest.json and open-loop.svg.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startFloor } from './floor/floor';
import type { BenchUser } from './load';
import { floorStep, knee, paystreamStep, type RateStep } from './open-loop';
import { systemRoots, type Roots } from './processes';
import { cfg } from './settings';
import { sweepChart } from './chart';

export interface SweepOptions {
  rates: number[];
  seconds: number;
  floor: boolean;
}

export function parseSweep(argv: string[]): SweepOptions | undefined {
  const at = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rate = at('--rate');
  if (!rate) return undefined;
  const rates = rate.split(',').map(Number);
  if (rates.some((r) => !(r > 0))) throw new Error(`--rate ${rate}: positive numbers, comma separated`);
  return { rates, seconds: Number(at('--duration') ?? 30), floor: !argv.includes('--no-floor') };
}

const pad = (v: unknown, n: number) => String(v).padStart(n);

function printSteps(title: string, steps: RateStep[]): void {
  console.log(`\n${title}`);
  console.log(
    'offered/s  accepted  final  completed/s  create p50/p99 ms  →final p50/p95/p99 ms  errors  CPU ms/order',
  );
  for (const s of steps)
    console.log(
      [
        pad(s.rate, 9),
        pad(s.accepted, 8),
        pad(`${s.final}${s.allFinal ? '' : '!'}`, 5),
        pad(s.completedPerSecond, 11),
        pad(`${s.createMs.p50}/${s.createMs.p99}`, 17),
        pad(`${s.toFinalMs.p50}/${s.toFinalMs.p95}/${s.toFinalMs.p99}`, 21),
        pad(s.errors, 6),
        pad(s.cpuMsPerOrderTotal, 12),
      ].join('  '),
    );
  for (const s of steps)
    for (const [name, w] of Object.entries(s.workers ?? {}))
      console.log(
        `  ${s.rate}/s ${name} worker: sticky cache hit ratio ${w.stickyHitRatio ?? 'n/a'}, misses ${w.stickyMisses}, ` +
          `cached ${w.cacheSize}; ${w.tasks} workflow tasks, run ${w.taskExecutionMsMean} ms, queued ones waited ${w.taskScheduleToStartMsMean} ms`,
      );
  const names = [...new Set(steps.flatMap((s) => Object.keys(s.cpuMsPerOrder)))];
  console.log(`CPU ms per order by process (and peak RSS MB), per offered rate:`);
  for (const name of names)
    console.log(
      `  ${name.padEnd(14)} ${steps.map((s) => `${pad(s.cpuMsPerOrder[name] ?? 0, 6)} (${pad(s.peakRssMb[name] ?? '-', 4)})`).join('  ')}`,
    );
}

export async function runSweep(
  opts: SweepOptions,
  target: { gatewayUrl: string; services: { name: string; pid: number | undefined }[] },
  users: BenchUser[],
): Promise<void> {
  const roots: Roots = systemRoots(target.services);
  // The floor first, on a server that nothing else is loading; then Paystream, rate by rate.
  const floor: RateStep[] = [];
  if (opts.floor) {
    const noop = await startFloor(cfg.TEMPORAL_ADDRESS, cfg.TEMPORAL_NAMESPACE);
    const floorRoots: Roots = roots.temporal ? { temporal: roots.temporal } : {};
    try {
      for (const rate of opts.rates) {
        console.log(`[bench] no-op floor: ${rate} orders/s for ${opts.seconds} s`);
        floor.push(await floorStep(noop, rate, opts.seconds, floorRoots));
      }
    } finally {
      await noop.close();
    }
  }
  const system: RateStep[] = [];
  for (const rate of opts.rates) {
    console.log(`[bench] offering ${rate} orders/s for ${opts.seconds} s`);
    system.push(await paystreamStep(target.gatewayUrl, users, rate, opts.seconds, roots));
    await new Promise((r) => setTimeout(r, 3000));
  }
  printSteps('Paystream (open loop)', system);
  if (floor.length) printSteps('No-op Temporal floor (same shape, same server)', floor);
  const kneeSystem = knee(system);
  const kneeFloor = floor.length ? knee(floor) : null;
  const best = (steps: RateStep[]) => Math.max(0, ...steps.map((s) => s.completedPerSecond));
  const ratio = floor.length ? Math.round((best(system) / Math.max(0.1, best(floor))) * 100) / 100 : null;
  console.log(
    `\nknee (highest rate with every order final and p99 < 1 s): Paystream ${kneeSystem ?? 'none'}/s` +
      (floor.length ? `, floor ${kneeFloor ?? 'none'}/s; best completed/s ratio to the floor ${ratio}` : ''),
  );
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const result = {
    at: new Date().toISOString(),
    seconds: opts.seconds,
    system,
    floor,
    kneeSystem,
    kneeFloor,
    ratio,
  };
  fs.writeFileSync(path.join(dir, 'open-loop-latest.json'), JSON.stringify(result, null, 2));
  fs.writeFileSync(path.join(dir, 'open-loop.svg'), sweepChart(system, floor));
  console.log(`[bench] wrote bench/results/open-loop-latest.json and bench/results/open-loop.svg`);
}
