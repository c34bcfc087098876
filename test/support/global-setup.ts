import fs from 'node:fs';
import path from 'node:path';
import { CACHE, up } from '../../temporal/stack';

/** Brings up the real stack (idempotent); remembers what it started so teardown stops only that. */
export default async function globalSetup(): Promise<void> {
  const started = await up();
  fs.mkdirSync(path.join(CACHE, 'run'), { recursive: true });
  fs.writeFileSync(path.join(CACHE, 'run', 'jest-started.json'), JSON.stringify(started));
}
