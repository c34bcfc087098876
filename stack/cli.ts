/**
 * The local stack from the command line: `tsx stack/cli.ts up|down|status [server...]` (also
 * `npm run stack:up|stack:down|stack:status` and `./paystream stack ...`), and `install`: fetch and build
 * everything a test run needs without starting anything (what `./paystream test` runs ahead).
 */
import { createStack } from './index';
import { timed } from './process';

const [command = 'status', ...names] = process.argv.slice(2);
const selected = names.length ? names : undefined;
const commands: Record<string, () => Promise<unknown>> = {
  up: () => timed('stack up', () => createStack().up(selected)),
  install: () => timed('install ahead', () => createStack().installAll()),
  down: () => createStack().down(selected),
  status: async () => {
    if (!(await createStack().status())) process.exitCode = 1;
  },
};
const fn = commands[command];
if (!fn) {
  console.error('usage: tsx stack/cli.ts up|down|status|install [server...]');
  process.exit(2);
}
fn().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(`[stack] ${(err as Error).message}`);
    process.exit(1);
  },
);
