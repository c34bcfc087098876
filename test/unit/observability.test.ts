import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { registry } from '@paystream/common/metrics';
// The services' own metrics register on import, as they do in each service.
import '../../services/payment/src/ledger/metrics';
import '../../services/order/src/metrics';
import '../../services/payment/src/metrics';
import '../../services/notification/src/metrics';
import '../../services/gateway/src/limits';

/**
 * The alert rules and the Grafana dashboard (deploy/observability) checked without a Prometheus: every
 * expression parses with Prometheus' own PromQL grammar (the one its web UI uses), reads only series the
 * services export, and every alert has a severity, a summary and a runbook section in docs/operations.md.
 */
// Prometheus' PromQL grammar ships its types as ESM only; its CommonJS build is what jest loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as typeof import('@prometheus-io/lezer-promql', {
  with: { 'resolution-mode': 'import' },
});
const ROOT = path.join(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; runbook?: string };
}
const rules = (
  parse(read('deploy/observability/alerts.yml')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read('deploy/observability/grafana/paystream-dashboard.json')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

/** Series names the services export: the shared registry, the gauges registered at start, Prometheus' `up`. */
function exportedSeries(): Set<string> {
  const names = new Set(['up']);
  for (const m of registry.getMetricsAsArray()) {
    names.add(m.name);
    if (m.type.toString() === 'histogram')
      for (const s of ['_bucket', '_count', '_sum']) names.add(m.name + s);
  }
  const sources = [
    'packages/common/src/kafka.ts',
    'services/order/src/main.ts',
    'services/notification/src/main.ts',
  ];
  // Gauges registered when a service starts: scrapedGauge('name', …) and the lazily made `new Gauge({ name })`.
  for (const file of sources)
    for (const m of read(file).matchAll(/(?:scrapedGauge\(\s*|new Gauge\(\{\s*name: )'([a-z_]+)'/g))
      names.add(m[1]!);
  return names;
}

/** The metric names an expression reads, and whether Prometheus' grammar found an error in it. */
function analyse(expr: string): { metrics: string[]; error: boolean } {
  const metrics: string[] = [];
  let error = false;
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) error = true;
      if (node.name === 'VectorSelector') {
        const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(node.from, node.to));
        if (name) metrics.push(name[0]);
      }
    },
  });
  return { metrics, error };
}

const expressions = [
  ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
  ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
];

describe('alert rules and dashboard', () => {
  const exported = exportedSeries();

  it.each(expressions)('$where: parses as PromQL and reads only exported series', ({ expr }) => {
    const { metrics, error } = analyse(expr);
    expect(error).toBe(false);
    expect(metrics.length).toBeGreaterThan(0);
    for (const m of metrics)
      expect({ metric: m, exported: exported.has(m) }).toEqual({ metric: m, exported: true });
  });

  it('catches a typo in an expression or a series that does not exist', () => {
    expect(analyse('sum(rate(order_outcomes_total[5m]) / ').error).toBe(true);
    expect(analyse('rate(orders_paid_total[5m])').metrics.every((m) => exported.has(m))).toBe(false);
  });

  it('gives every alert a severity, a summary and a runbook section that exists', () => {
    const operations = read('docs/operations.md');
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const r of rules) {
      expect({ alert: r.alert, severity: r.labels?.severity }).toEqual({
        alert: r.alert,
        severity: expect.stringMatching(/^(page|ticket)$/),
      });
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.runbook).toBe(`docs/operations.md#alert-${r.alert.toLowerCase()}`);
      expect(operations).toContain(`#### Alert: ${r.alert}`);
    }
  });

  it('is what compose provisions: Prometheus loads the rules, Grafana the data source and the dashboard', () => {
    const compose = read('docker-compose.yml');
    expect(read('deploy/observability/prometheus.yml')).toContain('/etc/prometheus/alerts.yml');
    for (const file of [
      'alerts.yml',
      'grafana/provisioning.yml',
      'grafana/dashboards.yml',
      'grafana/paystream-dashboard.json',
    ])
      expect(compose).toContain(`./deploy/observability/${file}:`);
  });
});
