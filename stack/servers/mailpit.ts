/** Mailpit: the SMTP server the notification service sends to, with an HTTP API to read what arrived. */
import { goBinary, httpOk, portOpen, startDaemon, stopDaemon, waitFor } from '../process';
import { VERSIONS } from '../versions';
import type { LocalServer, ServerDeps } from './server';

export function mailpitServer({ cfg, paths }: ServerDeps): LocalServer {
  const answers = async () =>
    (await httpOk(`http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/info`)) && (await portOpen(cfg.SMTP_PORT));
  return {
    name: 'mailpit',
    ports: [cfg.SMTP_PORT, cfg.MAIL_API_PORT],
    /** Resolves to the Mailpit binary. */
    install: () => goBinary(paths, 'mailpit', 'github.com/axllent/mailpit', VERSIONS.mailpit),
    ready: answers,
    async start(binary) {
      const logFile = startDaemon(paths, 'mailpit', binary, [
        '--listen',
        `127.0.0.1:${cfg.MAIL_API_PORT}`,
        '--smtp',
        `127.0.0.1:${cfg.SMTP_PORT}`,
        '--smtp-auth-accept-any',
        '--smtp-auth-allow-insecure',
        '--quiet',
      ]);
      await waitFor('mailpit', answers, 30_000, logFile);
    },
    stop: () => stopDaemon(paths.run, 'mailpit'),
    describe: () =>
      `mailpit      smtp://127.0.0.1:${cfg.SMTP_PORT}, API http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/messages`,
  };
}
