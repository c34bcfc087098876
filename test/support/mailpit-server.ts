import { spawn, type ChildProcess } from 'node:child_process';
import { eventually, mailpitAt, mailpitBinaryPath } from './index';

/** A Mailpit of a test's own, which the test can stop and start to play an SMTP outage. */
export class MailpitServer {
  private child: ChildProcess | undefined;
  readonly api: ReturnType<typeof mailpitAt>;

  constructor(
    readonly smtpPort: number,
    readonly apiPort: number,
    private readonly extraArgs: string[] = [],
  ) {
    this.api = mailpitAt(apiPort);
  }

  async start(): Promise<void> {
    this.child = spawn(
      mailpitBinaryPath(),
      [
        '--listen',
        `127.0.0.1:${this.apiPort}`,
        '--smtp',
        `127.0.0.1:${this.smtpPort}`,
        '--smtp-auth-accept-any',
        '--smtp-auth-allow-insecure',
        '--quiet',
        ...this.extraArgs,
      ],
      { stdio: 'ignore' },
    );
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${this.apiPort}/api/v1/info`);
      if (!res.ok) throw new Error(`mailpit ${res.status}`);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}
