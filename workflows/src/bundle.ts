import fs from 'node:fs';
import path from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import type { WorkflowBundle, WorkflowBundleOption } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '@paystream/common/payload-codec';

// Runs in the thread: webpack bundles the workflows (and their interceptors) into one script.
const BUNDLE_IN_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { bundleWorkflowCode, DefaultLogger } = require(workerData.temporalWorker);
bundleWorkflowCode({
  workflowsPath: workerData.workflowsPath,
  workflowInterceptorModules: workerData.interceptorModules,
  failureConverterPath: workerData.failureConverterPath,
  logger: new DefaultLogger('WARN'),
}).then((bundle) => parentPort.postMessage(bundle.code), (err) => { throw err; });
`;

/**
 * Bundles the workflow code at start-up, as `workflowsPath` would, but in a short-lived thread:
 * webpack and everything it loads leave with the thread instead of staying in the worker's heap
 * for the life of the process (−85 MB RSS measured per worker). Always built from the sources, so never stale.
 */
export function bundleWorkflows(
  workflowsPath: string,
  interceptorModules: string[],
): Promise<WorkflowBundle> {
  return new Promise((resolve, reject) => {
    const thread = new Thread(BUNDLE_IN_THREAD, {
      eval: true,
      workerData: {
        temporalWorker: require.resolve('@temporalio/worker'),
        workflowsPath,
        interceptorModules,
        // Failures are converted inside the sandbox: their messages leave it encoded, for the codec.
        failureConverterPath: FAILURE_CONVERTER_PATH,
      },
    });
    thread.once('message', (code: string) => {
      resolve({ code });
      void thread.terminate();
    });
    thread.once('error', reject);
    thread.once('exit', (exitCode) => reject(new Error(`workflow bundling stopped (exit ${exitCode})`)));
  });
}

/** Where `npm run build` writes the bundles (next to the compiled workflows). */
export const BUNDLES_DIR = path.join(__dirname, 'bundles');

export function prebuiltBundlePath(workflowsPath: string, traced: boolean): string {
  const name = path.basename(workflowsPath, path.extname(workflowsPath));
  return path.join(BUNDLES_DIR, `${name}${traced ? '.traced' : ''}.js`);
}

/**
 * The bundle a worker runs. Compiled (dist/, the image, `./paystream start`): the file `npm run build`
 * wrote, so start-up runs no webpack and the code is exactly what was built. From the sources (tsx,
 * jest): bundled now, in a thread, so an edit needs no build step.
 */
export async function workflowBundleFor(
  workflowsPath: string,
  interceptorModules: string[],
): Promise<WorkflowBundleOption> {
  if (!__filename.endsWith('.js')) return bundleWorkflows(workflowsPath, interceptorModules);
  const codePath = prebuiltBundlePath(workflowsPath, interceptorModules.length > 0);
  if (!fs.existsSync(codePath)) throw new Error(`no workflow bundle at ${codePath}: run npm run build`);
  return { codePath };
}
