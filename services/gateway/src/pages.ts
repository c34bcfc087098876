import fs from 'node:fs';
import { Router } from 'express';

export interface PageOptions {
  /** Where the page lives: `/demo`, `/docs`, `/console`. */
  at: string;
  contentSecurityPolicy: string;
  /** The page's HTML, read once at start (placeholders already filled in). */
  html: string;
  /** The files beside it, by the name the page asks for. */
  files: Record<string, string>;
  /** Cache-Control for all of it; the gateway's default (no-store) when absent. */
  cacheControl?: string;
}

/**
 * A page the gateway serves itself, with its own Content-Security-Policy. Only the files named here are
 * served, each from the path given: no part of a request path ever reaches the file system.
 */
export function pageRoutes(opts: PageOptions): Router {
  const router = Router();
  router.use(opts.at, (_req, res, next) => {
    res.setHeader('content-security-policy', opts.contentSecurityPolicy);
    if (opts.cacheControl) res.setHeader('cache-control', opts.cacheControl);
    next();
  });
  router.get([opts.at, `${opts.at}/`], (_req, res) => {
    res.type('html').send(opts.html);
  });
  for (const [name, file] of Object.entries(opts.files))
    router.get(`${opts.at}/${name}`, (_req, res) => res.sendFile(file));
  return router;
}

export const readPage = (file: string) => fs.readFileSync(file, 'utf8');

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
