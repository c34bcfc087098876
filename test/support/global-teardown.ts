import fs from 'node:fs';
import path from 'node:path';
import { createStack } from '../../stack';

/** Stops the stack parts this test run started; PAYSTREAM_KEEP_STACK=1 leaves them up for the next run. */
export default async function globalTeardown(): Promise<void> {
  const stack = createStack();
  const file = path.join(stack.cacheDir, 'run', 'jest-started.json');
  if (!fs.existsSync(file)) return;
  const started = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
  fs.rmSync(file);
  if (process.env.PAYSTREAM_KEEP_STACK === '1' || started.length === 0) return;
  await stack.down(started);
}
