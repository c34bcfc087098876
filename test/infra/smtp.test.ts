import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { cfg, eventually, mailpit, uniqueEmail } from '../support';

describe('SMTP (Mailpit, real server, via nodemailer)', () => {
  it('delivers an email that the API can read back', async () => {
    const transport = nodemailer.createTransport({ host: cfg.SMTP_HOST, port: cfg.SMTP_PORT, secure: false });
    const to = uniqueEmail('smtp');
    const marker = randomUUID();
    try {
      await transport.sendMail({
        from: cfg.MAIL_FROM,
        to,
        subject: `Probe ${marker}`,
        text: `body ${marker}`,
      });
    } finally {
      transport.close();
    }
    const [summary] = await eventually(async () => {
      const found = await mailpit.messagesTo(to);
      if (found.length !== 1) throw new Error(`expected 1 message, found ${found.length}`);
      return found;
    });
    expect(summary!.Subject).toBe(`Probe ${marker}`);
    const full = await mailpit.message(summary!.ID);
    expect(full.Text).toContain(marker);
    expect(full.To[0]!.Address).toBe(to);
  });

  it('serves its web UI: the inbox page and the script it loads', async () => {
    const base = `http://127.0.0.1:${cfg.MAIL_API_PORT}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const script = await fetch(new URL(src, `${base}/`));
      expect({ src, status: script.status }).toEqual({ src, status: 200 });
      expect((await script.text()).length).toBeGreaterThan(10_000); // the built UI, not a placeholder
    }
  });
});
