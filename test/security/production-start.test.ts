import { spawn } from 'node:child_process';
import path from 'node:path';
import { SERVICE_SECRETS, SHIPPED_SECRETS } from '@paystream/common/production';

const ROOT = path.join(__dirname, '../..');

/** Starts a service as its image would (NODE_ENV=production) with this repository's defaults; its exit and output. */
function startInProduction(service: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info' };
    for (const key of ['JWT_SECRET', 'SERVICE_TOKEN', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_SECRET_KEY'])
      delete env[key];
    const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [`services/${service}/src/main.ts`], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${service} did not refuse within 30 s:\n${output}`));
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('production mode', () => {
  it.each(Object.keys(SERVICE_SECRETS))(
    '%s refuses to start with the secrets shipped in the repository, and says which, without printing them',
    async (service) => {
      const { code, output } = await startInProduction(service);
      expect(code).not.toBe(0);
      expect(output).toContain(`${service} refuses to start in production`);
      expect(output).toMatch(/SERVICE_TOKEN is a value shipped in the Paystream repository/);
      for (const secret of SHIPPED_SECRETS) if (secret.length > 12) expect(output).not.toContain(secret);
      // Nothing was connected to: the refusal comes before any part starts.
      expect(output).not.toMatch(/listening|consumer started|worker started/i);
    },
  );
});
