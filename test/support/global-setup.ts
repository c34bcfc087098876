import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createStack } from '../../stack';

/**
 * Builds what the tests run (the services start from dist/, as in the image; incremental, a few seconds
 * when nothing changed, so a single test file never runs stale code), then brings up the real stack
 * (idempotent) and remembers what it started so teardown stops only that.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: path.join(__dirname, '../..'), stdio: 'inherit' });
  const stack = createStack();
  const started = await stack.up();
  fs.mkdirSync(path.join(stack.cacheDir, 'run'), { recursive: true });
  fs.writeFileSync(path.join(stack.cacheDir, 'run', 'jest-started.json'), JSON.stringify(started));
}
