import path from 'node:path';
import type { Router } from 'express';
import { escapeHtml, pageRoutes, readPage } from './pages';

/**
 * GET /demo: a checkout page to click through, on the public API alone (sign up, save a card with
 * Stripe.js, pay, watch the status, 3-D Secure when the bank asks). Off in production.
 */
export interface DemoOptions {
  publishableKey: string;
  /** Stripe's own Stripe.js, or localstripe's fake one. */
  stripeJsUrl: string;
}

/** Stripe.js' documented CSP needs, or the fake's: its script, its API and its 3-D Secure frames. */
function contentSecurityPolicy(stripeJsUrl: string): string {
  const origin = new URL(stripeJsUrl).origin;
  const real = origin === 'https://js.stripe.com';
  const scripts = real ? 'https://js.stripe.com https://*.js.stripe.com' : origin;
  const connect = real ? 'https://api.stripe.com' : origin;
  const frames = real ? 'https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com' : origin;
  return [
    "default-src 'none'",
    `script-src 'self' ${scripts}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' ${connect}`,
    `frame-src ${frames}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function demoRoutes(opts: DemoOptions): Router {
  const dir = path.join(__dirname, '..', 'static', 'demo');
  return pageRoutes({
    at: '/demo',
    contentSecurityPolicy: contentSecurityPolicy(opts.stripeJsUrl),
    html: readPage(path.join(dir, 'index.html'))
      .replace('{{STRIPE_JS_URL}}', () => escapeHtml(opts.stripeJsUrl))
      .replace('{{STRIPE_PUBLISHABLE_KEY}}', () => escapeHtml(opts.publishableKey)),
    files: { 'demo.js': path.join(dir, 'demo.js'), 'demo.css': path.join(dir, 'demo.css') },
  });
}
