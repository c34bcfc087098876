/** Mailpit: the SMTP server the notification service sends to, with an HTTP API to read what arrived. */
import { httpOk, portOpen } from '../process';
import { VERSIONS } from '../versions';
import { goDaemon } from './go-daemon';
import type { LocalServer, ServerDeps } from './server';

export function mailpitServer({ cfg, paths }: ServerDeps): LocalServer {
  return goDaemon(paths, {
    name: 'mailpit',
    module: 'github.com/axllent/mailpit',
    version: VERSIONS.mailpit,
    ports: [cfg.SMTP_PORT, cfg.MAIL_API_PORT],
    args: [
      '--listen',
      `127.0.0.1:${cfg.MAIL_API_PORT}`,
      '--smtp',
      `127.0.0.1:${cfg.SMTP_PORT}`,
      '--smtp-auth-accept-any',
      '--smtp-auth-allow-insecure',
      '--quiet',
    ],
    answers: async () =>
      (await httpOk(`http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/info`)) && (await portOpen(cfg.SMTP_PORT)),
    describe: `mailpit      smtp://127.0.0.1:${cfg.SMTP_PORT}, API http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/messages`,
  });
}
