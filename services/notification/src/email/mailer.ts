import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '@paystream/common/config';

/** Plain SMTP to the configured relay (Mailpit locally); pooled so a burst of emails reuses connections. */
export function createMailer(cfg: Config): Transporter {
  return nodemailer.createTransport({
    host: cfg.SMTP_HOST,
    port: cfg.SMTP_PORT,
    secure: false,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10_000,
  });
}
