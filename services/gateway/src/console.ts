import path from 'node:path';
import type { Router } from 'express';
import { pageRoutes, readPage } from './pages';

/**
 * GET /console: the operator console, plain HTML and JavaScript on the operator API alone. An API key signs in
 * (kept in the page's memory only, never in storage another script of this origin could read); what the page
 * may do is what the key's scopes allow, and every change it makes is audited by the API. Only the gateway's
 * own files run or load there (CSP `'self'`, no inline script or style), and the page writes everything it
 * shows as text, never as HTML. Its lists (order statuses, event types) come from /openapi.json, which the
 * services' own schemas make.
 */
export function consoleRoutes(): Router {
  const dir = path.join(__dirname, '..', 'static', 'console');
  return pageRoutes({
    at: '/console',
    contentSecurityPolicy: [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      "connect-src 'self'",
      "form-action 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    html: readPage(path.join(dir, 'index.html')),
    files: { 'console.js': path.join(dir, 'console.js'), 'console.css': path.join(dir, 'console.css') },
  });
}
