/** Mailpit: the SMTP server the notification service sends to, with an HTTP API and a web UI to read what arrived. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { goBinary, httpOk, log, portOpen, runLogged, timed, which, type CachePaths } from '../process';
import { VERSIONS } from '../versions';
import { goDaemon } from './go-daemon';
import type { LocalServer, ServerDeps } from './server';

const MODULE = 'github.com/axllent/mailpit';

/**
 * Mailpit with its web UI. The module on the Go proxy carries the UI's sources but not their build, so a
 * plain `go install` serves a blank page: build the UI (npm, esbuild) in a writable copy of the module,
 * then the binary, which embeds it. Cached on the version; if the UI cannot be built, the API-only binary.
 */
async function mailpitWithUi(paths: CachePaths): Promise<string> {
  const target = path.join(paths.bin, `mailpit-ui-${VERSIONS.mailpit}`);
  if (fs.existsSync(target)) return target;
  try {
    if (!which('go') || !which('npm')) throw new Error('go and npm are needed');
    const src = path.join(paths.cache, 'src', `mailpit-${VERSIONS.mailpit}`);
    await timed(`build mailpit ${VERSIONS.mailpit} with its web UI (first run only)`, async () => {
      const { Dir } = JSON.parse(
        execFileSync('go', ['mod', 'download', '-json', `${MODULE}@${VERSIONS.mailpit}`], {
          encoding: 'utf8',
        }),
      ) as { Dir: string };
      fs.rmSync(src, { recursive: true, force: true });
      fs.cpSync(Dir, src, { recursive: true });
      execFileSync('chmod', ['-R', 'u+w', src]);
      await runLogged(paths.logs, 'npm', ['ci', '--no-audit', '--no-fund'], 'build-mailpit-ui-npm.log', {
        cwd: src,
      });
      await runLogged(paths.logs, 'npm', ['run', 'build'], 'build-mailpit-ui.log', { cwd: src });
      fs.mkdirSync(paths.bin, { recursive: true });
      await runLogged(
        paths.logs,
        'go',
        ['build', '-trimpath', '-o', target, '.'],
        'build-mailpit-ui-go.log',
        {
          cwd: src,
          env: { ...process.env, CGO_ENABLED: '0' },
        },
      );
    });
    fs.rmSync(src, { recursive: true, force: true });
    return target;
  } catch (err) {
    log(
      `mailpit web UI not built (${(err as Error).message.split('\n')[0]}); the API-only build serves mail`,
    );
    return goBinary(paths, 'mailpit', MODULE, VERSIONS.mailpit);
  }
}

export function mailpitServer({ cfg, paths }: ServerDeps): LocalServer {
  const daemon = goDaemon(paths, {
    name: 'mailpit',
    module: MODULE,
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
    describe: `mailpit      smtp://127.0.0.1:${cfg.SMTP_PORT}, web UI http://127.0.0.1:${cfg.MAIL_API_PORT}, API /api/v1/messages`,
  });
  return { ...daemon, install: () => mailpitWithUi(paths) };
}
