/** What one bench run does, from the environment (see run.ts), and the id its users and orders carry. */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@paystream/common/config';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
export const USERS = env('BENCH_USERS', 20);
export const ORDERS_PER_USER = env('BENCH_ORDERS_PER_USER', 25);
export const CONCURRENCY = env('BENCH_CONCURRENCY', 32);
export const OVERHEAD_SAMPLES = env('BENCH_OVERHEAD_SAMPLES', 500);
export const DRAIN_TIMEOUT_MS = env('BENCH_DRAIN_TIMEOUT_MS', 300_000);
export const cfg = loadConfig();
export const runId = randomUUID().slice(0, 8);
