import fs from 'node:fs';
import path from 'node:path';
import { createStripe } from '@paystream/common/stripe';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumBinary } from '../../stack';
import { cfg, eventually, mailpit } from '../support';
import { E2E_PORTS, startE2EWithWebhooks, type E2E } from './support';

/**
 * The /demo checkout page, clicked through by a person in Debian's headless Chromium: sign up, save a card
 * that asks for 3-D Secure through localstripe's Stripe.js, pay, pass the bank's challenge, watch the order
 * turn paid, then cancel it and watch the refund; then pay later, and the merchant captures part of it in the
 * operator console the page links to. The outcome is read back from Postgres, localstripe and Mailpit; the
 * screenshots are kept in artifacts/ for CI.
 */
const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts');
const stripe = createStripe(cfg);
let e2e: E2E;
let browser: Browser;

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.demoCheckout, 60);
  browser = await chromium.launch({ executablePath: chromiumBinary() });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await e2e?.stop();
});

/** localstripe's card element: five plain inputs named by their placeholders. */
async function typeCard(page: Page, number: string) {
  const field = (name: string) => page.locator(`#card-element input[placeholder=${name}]`);
  await field('number').fill(number);
  await field('exp_month').fill('12');
  await field('exp_year').fill('34');
  await field('cvc').fill('123');
  await field('postal_code').fill('10115');
}

/** The bank's challenge, as localstripe's Stripe.js shows it. */
const challenge = (page: Page) => page.getByRole('button', { name: 'Complete authentication' });

test('a person signs up, saves a 3-D Secure card, pays, authenticates, cancels for a refund, then pays later and the merchant captures part', async () => {
  const page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  try {
    await page.goto(`${e2e.services.url('gateway')}/demo`);
    const email = await page.locator('#email').inputValue();
    await page.locator('#signup').click();
    await page.locator('#card-section').waitFor();
    expect(await page.locator('#signed-in').textContent()).toContain('Open the link we mailed you');
    // The person opens the verification email and its link, which opens the demo page and verifies the address.
    const link = await eventually(async () => {
      const [mail] = (await mailpit.messagesTo(email)).filter(
        (m) => m.Subject === 'Confirm your email address',
      );
      if (!mail) throw new Error('no verification email yet');
      return /(http:\S+#verify=[\w-]{43})/.exec((await mailpit.message(mail.ID)).Text)![1]!;
    }, 30_000);
    const inbox = await browser.newPage();
    await inbox.goto(link);
    await inbox.locator('#link-result:not(:empty)').waitFor();
    expect(await inbox.locator('#link-result').textContent()).toBe(
      'Address verified: payment emails will reach it.',
    );
    await inbox.close();

    await typeCard(page, '4000002760003184');
    await page.locator('#save-card').click();
    // Saving may ask for authentication too (a SetupIntent); either way the card ends up saved.
    const saved = page.locator('#card-saved:not([hidden])');
    const first = await Promise.race([
      saved.waitFor().then(
        () => 'saved',
        () => 'timeout',
      ),
      challenge(page)
        .waitFor()
        .then(
          () => 'challenge',
          () => 'timeout',
        ),
    ]);
    if (first === 'challenge') await challenge(page).click();
    await saved.waitFor().catch(async (err: Error) => {
      throw new Error(`${err.message}\npage says: ${await page.locator('#message').textContent()}`);
    });
    expect(await page.locator('#card-saved').textContent()).toContain('3184');

    await page.locator('#amount').fill('42.00');
    await page.locator('#pay').click();
    await challenge(page).waitFor({ timeout: 30_000 });
    expect(await page.locator('#order-status').getAttribute('data-status')).toBe('requires_action');
    await page.screenshot({ path: path.join(ARTIFACTS, 'demo-checkout-3ds.png'), fullPage: true });
    await challenge(page).click();
    await page.locator('#order-status[data-status=paid]').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'demo-checkout-paid.png'), fullPage: true });
    const orderId = (await page.locator('#order-id').textContent())!;
    expect(await page.locator('#timeline').textContent()).toMatch(/pending[\s\S]*requires_action[\s\S]*paid/);

    // What the page showed is what happened: the order row, one charge in Stripe, the email.
    const row = await e2e.orders.query<{ status: string; amount: number }>(
      'SELECT status, amount FROM orders WHERE id = $1',
      [orderId],
    );
    expect(row.rows[0]).toEqual({ status: 'paid', amount: 4200 });
    const intents = await e2e.intentsFor(orderId);
    expect(intents.map((i) => [i.status, i.amount])).toEqual([['succeeded', 4200]]);
    await eventually(async () => {
      if (!(await mailpit.messagesTo(email)).length) throw new Error('no email yet');
    });

    await page.locator('#cancel').click();
    await page.locator('#order-status[data-status=refunded]').waitFor({ timeout: 30_000 });
    const refunds = await stripe.refunds.list({ payment_intent: intents[0]!.id });
    expect(refunds.data.map((r) => r.amount)).toEqual([4200]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'demo-checkout-refunded.png'), fullPage: true });

    // Paying later: the card is held (after the bank's challenge), the page points at the console, where the
    // merchant captures part of it; the page sees it paid with what was captured.
    await page.locator('#pay-later').check();
    await page.locator('#pay').click();
    await challenge(page).waitFor({ timeout: 30_000 });
    await challenge(page).click();
    await page.locator('#order-status[data-status=authorized]').waitFor({ timeout: 30_000 });
    const held = (await page.locator('#order-id').textContent())!;
    expect(await page.locator('#capture-hint').isVisible()).toBe(true);
    const made = await e2e.ops(
      'keys',
      'create',
      '--name',
      'demo merchant',
      '--scopes',
      'orders:read,captures:write',
    );
    const { key } = JSON.parse(made.out) as { key: string };
    const merchant = await browser.newPage(); // the merchant's own browser
    await merchant.goto(
      `${e2e.services.url('gateway')}${await page.locator('#console-link').getAttribute('href')}`,
    );
    await merchant.locator('#api-key').fill(key);
    await merchant.getByRole('button', { name: 'Sign in' }).click();
    await merchant.locator('#order-status[data-status=authorized]').waitFor();
    await merchant.locator('#capture-amount').fill('20.00');
    await merchant.getByRole('button', { name: 'Capture', exact: true }).click();
    await merchant.locator('#message', { hasText: 'Captured €20.00' }).waitFor();
    await page.locator('#order-status[data-status=paid]').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'demo-checkout-captured.png'), fullPage: true });
    expect(await page.locator('#timeline').textContent()).toMatch(/authorized[\s\S]*paid/);
    const [captured] = await e2e.intentsFor(held);
    expect([captured!.amount, captured!.amount_received]).toEqual([4200, 2000]);
    expect(problems).toEqual([]);
  } finally {
    await page.close();
  }
}, 180_000);
