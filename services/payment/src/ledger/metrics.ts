import { registry } from '@paystream/common/metrics';
import { Counter, Gauge } from 'prom-client';

/** What the payment service's ledger gate and reconciliation see (its other metrics are in ../metrics.ts). */
export const ledgerMetrics = {
  gate: new Counter({
    name: 'payment_ledger_claims_total',
    help: 'Payment workflow starts by what the ledger held (new | intent | settled): settled means a replay charged nothing',
    labelNames: ['state'] as const,
    registers: [registry],
  }),
  driftFound: new Counter({
    name: 'payment_drift_found_total',
    help: 'Reconciliation findings recorded for the first time, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  driftOpen: new Gauge({
    name: 'payment_drift_open',
    help: 'Unresolved reconciliation findings by kind, as of the last reconciliation pass',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  healed: new Counter({
    name: 'payment_reconciliation_healed_total',
    help: 'What reconciliation healed through the workflows that would have done it, by rule',
    labelNames: ['rule'] as const,
    registers: [registry],
  }),
  passes: new Counter({
    name: 'payment_reconciliation_passes_total',
    help: 'Reconciliation passes by kind (interval | daily) and result',
    labelNames: ['pass', 'result'] as const,
    registers: [registry],
  }),
  lastPass: new Gauge({
    name: 'payment_reconciliation_last_success_timestamp_seconds',
    help: 'When the last reconciliation pass finished, Unix seconds',
    registers: [registry],
  }),
  invalidEvents: new Counter({
    name: 'payment_events_invalid_total',
    help: 'payment.event drafts the event schema refused (a bug: the publish fails, not retried)',
    registers: [registry],
  }),
};
