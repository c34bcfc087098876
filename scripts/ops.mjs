// `npm run ops -- <command> …`: one entry for the operator's command-line tools, each run by the service that
// owns what it changes (built, as the image runs them): keys → user, dlq → notification, the rest (refund,
// capture, recon) → payment.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...rest] = process.argv.slice(2);
const tools = {
  keys: ['user', 'ops/keys.js', rest],
  dlq: ['notification', 'dlq/cli.js', rest],
};
const [service, entry, args] = tools[command] ?? ['payment', 'ops/cli.js', process.argv.slice(2)];
const run = spawnSync(
  process.execPath,
  ['--conditions=built', path.join(root, 'services', service, 'dist', entry), ...args],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
