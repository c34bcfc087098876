import fs from 'node:fs';
import path from 'node:path';
import { createStack } from '../../stack';

/** Brings up the real stack (idempotent); remembers what it started so teardown stops only that. */
export default async function globalSetup(): Promise<void> {
  const stack = createStack();
  const started = await stack.up();
  fs.mkdirSync(path.join(stack.cacheDir, 'run'), { recursive: true });
  fs.writeFileSync(path.join(stack.cacheDir, 'run', 'jest-started.json'), JSON.stringify(started));
}
