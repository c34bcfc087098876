// Container health: the service's own /readyz (its real dependencies answer). Used by the image's HEALTHCHECK.
const defaults = { gateway: 8080, user: 8081, order: 8082, payment: 8083, notification: 8084 };
const service = process.env.SERVICE ?? '';
// The gateway answers readiness on its admin port only (never on the public one).
const port =
  service === 'gateway'
    ? (process.env.GATEWAY_ADMIN_PORT ?? 9080)
    : (process.env[`${service.toUpperCase()}_PORT`] ?? defaults[service]);
fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
