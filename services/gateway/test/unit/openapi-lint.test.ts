import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { orderApi } from '../../../order/src/api';
import { notificationApi } from '../../../notification/src/api';
import { paymentApi } from '../../../payment/src/api';
import { userApi } from '../../../user/src/api';
import { apiSources, mergeApiDocuments } from '../../src/openapi';

/**
 * The document GET /openapi.json serves passes Redocly's `recommended` rules (redocly.yaml at the root),
 * with no error and no warning. It is built from the same service documents and sources (apiSources) the
 * gateway merges, with no server running.
 */
const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CONFIG = path.join(ROOT, 'redocly.yaml');

const docs: Record<string, Record<string, unknown>> = {
  'http://user': userApi,
  'http://order': orderApi,
  'http://payment': paymentApi,
  'http://notification': notificationApi,
};
const served = mergeApiDocuments(
  apiSources({
    user: 'http://user',
    order: 'http://order',
    payment: 'http://payment',
    notification: 'http://notification',
  }).map((source) => ({
    ...source,
    doc: docs[source.url]!,
  })),
) as { paths: Record<string, Record<string, unknown>> };

interface Problem {
  ruleId: string;
  severity: string;
  message: string;
  pointer: string;
}

// @redocly/openapi-core is ESM only, and jest can load that only under --experimental-vm-modules, so
// it runs in a node of its own: the document on stdin, the problems (config and document) on stdout.
const LINT = `
import { readFileSync } from 'node:fs';
import { lintConfig, lintFromString, loadConfig } from '@redocly/openapi-core';
const [configPath, absoluteRef] = process.argv.slice(1);
const config = await loadConfig({ configPath });
const problems = [
  ...(await lintConfig({ config })),
  ...(await lintFromString({ source: readFileSync(0, 'utf8'), absoluteRef, config })),
];
const pointer = (p) => p.location.map((l) => l.pointer ?? l.source?.absoluteRef).join(', ');
process.stdout.write(JSON.stringify(problems.filter((p) => !p.ignored).map((p) => ({
  ruleId: p.ruleId, severity: p.severity, message: p.message, pointer: pointer(p),
}))));
`;

function redoclyLint(doc: unknown): Problem[] {
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', LINT, CONFIG, path.join(ROOT, 'openapi.json')],
    { cwd: ROOT, input: JSON.stringify(doc), encoding: 'utf8', timeout: 30_000 },
  );
  return JSON.parse(out) as Problem[];
}

const show = (problems: Problem[]) =>
  problems.map((p) => `${p.severity} ${p.ruleId} at ${p.pointer}: ${p.message}`);

test("the served document passes Redocly's recommended rules: no error, no warning", () => {
  expect(show(redoclyLint(served))).toEqual([]);
}, 30_000);

test('the lint does report problems: a document without servers or licence fails', () => {
  const {
    servers: _servers,
    info,
    ...rest
  } = served as unknown as {
    servers: unknown;
    info: Record<string, unknown>;
  };
  const { license: _license, ...infoWithoutLicense } = info;
  const rules = redoclyLint({ ...rest, info: infoWithoutLicense }).map((p) => p.ruleId);
  expect(rules).toEqual(expect.arrayContaining(['no-empty-servers', 'info-license']));
}, 30_000);

/** Redocly's no-ambiguous-paths (off in redocly.yaml, which says why), per method: same segment count,
 * and at each segment the same text or a template on either side. */
test('no two operations with the same method have paths that can match the same URL', () => {
  const segments = (route: string) => route.split('/');
  const templated = (segment: string) => /^\{.+\}$/.test(segment);
  const ambiguous = (a: string, b: string) => {
    const [sa, sb] = [segments(a), segments(b)];
    return (
      sa.length === sb.length &&
      sa.every((s, i) => s === sb[i] || templated(s) || templated(sb[i]!)) &&
      // As Redocly does: only paths with as many templates are compared.
      sa.filter(templated).length === sb.filter(templated).length
    );
  };
  const byMethod = new Map<string, string[]>();
  for (const [route, ops] of Object.entries(served.paths))
    for (const method of Object.keys(ops)) byMethod.set(method, [...(byMethod.get(method) ?? []), route]);
  const clashes: string[] = [];
  for (const [method, routes] of byMethod)
    routes.forEach((a, i) =>
      routes.slice(i + 1).forEach((b) => {
        if (ambiguous(a, b)) clashes.push(`${method.toUpperCase()} ${a} vs ${b}`);
      }),
    );
  expect(clashes).toEqual([]);
  // And the method-blind rule does see the one known overlap, which redocly.yaml explains.
  expect(ambiguous('/orders/status/{orderId}', '/orders/{orderId}/cancel')).toBe(true);
});
