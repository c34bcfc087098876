/**
 * `npm run build` (after tsc): the workflow bundles, built ahead of time from the compiled workflows so
 * a worker started from dist/ loads a file (`workflowBundle.codePath`) instead of running webpack at
 * start-up. One bundle per workflow file, with and without the tracing interceptors (see worker-tracing.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '@paystream/common/payload-codec';
import { BUNDLES_DIR, prebuiltBundlePath } from './bundle';
import { WORKFLOWS_PATHS } from './index';
import { WORKFLOW_TRACING_MODULES } from './worker-tracing';

/** Newest modification time of the .js files under `dir` (what a bundle is made of), bundles aside. */
function newestJs(dir: string): number {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js') && e.parentPath !== BUNDLES_DIR)
    .reduce((newest, e) => Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs), 0);
}

async function main(): Promise<void> {
  const inputs = Math.max(newestJs(__dirname), newestJs(path.dirname(FAILURE_CONVERTER_PATH)));
  fs.mkdirSync(BUNDLES_DIR, { recursive: true });
  for (const workflowsPath of Object.values(WORKFLOWS_PATHS))
    for (const traced of [false, true]) {
      const out = prebuiltBundlePath(workflowsPath, traced);
      if (fs.existsSync(out) && fs.statSync(out).mtimeMs > inputs) continue; // up to date
      const started = Date.now();
      const { code } = await bundleWorkflowCode({
        workflowsPath,
        workflowInterceptorModules: traced ? WORKFLOW_TRACING_MODULES : [],
        failureConverterPath: FAILURE_CONVERTER_PATH,
        logger: new DefaultLogger('WARN'),
      });
      fs.writeFileSync(out, code);
      console.log(`[build] ${path.relative(process.cwd(), out)} (${Date.now() - started} ms)`);
    }
}

main().catch((err: unknown) => {
  console.error(`[build] workflow bundles: ${(err as Error).message}`);
  process.exit(1);
});
