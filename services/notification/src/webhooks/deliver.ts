import { ApplicationFailure } from '@temporalio/activity';
import { NOTIFICATION_ERRORS, type NotificationActivities } from '@paystream/workflows';
import { notificationMetrics } from '../metrics';
import { endpointUrlProblem, messageBody, signature, signingSecrets, type WebhookStore } from './endpoints';

export interface WebhookDeliveryDeps {
  store: WebhookStore;
  production: boolean;
  /** How long one attempt may take (the receiver's answer included). */
  timeoutMs: number;
  /** An endpoint failing this long without one success is disabled. */
  disableAfterSeconds: number;
}

/**
 * The webhook activities: one attempt of a delivery — signed as Standard Webhooks asks, POSTed, recorded —
 * and the end of a delivery whose attempts are spent. The endpoint's address is checked again before each
 * attempt: a name that resolved outside a private network when it was registered may not any more.
 */
export function createWebhookActivities(
  deps: WebhookDeliveryDeps,
): Pick<NotificationActivities, 'deliverWebhook' | 'finishWebhookDelivery'> {
  const disabled = (why: string) =>
    ApplicationFailure.nonRetryable(why, NOTIFICATION_ERRORS.endpointDisabled);
  return {
    async deliverWebhook(deliveryId) {
      const delivery = await deps.store.delivery(deliveryId);
      if (!delivery || delivery.status === 'delivered') return;
      const endpoint = await deps.store.endpoint(delivery.endpointId);
      if (!endpoint || endpoint.status === 'disabled')
        throw disabled(`endpoint ${delivery.endpointId} is disabled`);
      const body = messageBody(delivery.payload);
      const timestamp = Math.floor(Date.now() / 1000);
      const secrets = signingSecrets(await deps.store.secretsOf(endpoint.id));
      const started = Date.now();
      let statusCode: number | null = null;
      let error: string | null = null;
      const unsafe = await endpointUrlProblem(endpoint.url, deps.production);
      if (unsafe) error = `not sent: the URL ${unsafe}`;
      else
        try {
          const res = await fetch(endpoint.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'webhook-id': delivery.eventId,
              'webhook-timestamp': String(timestamp),
              'webhook-signature': signature(secrets, delivery.eventId, timestamp, body),
              'user-agent': 'Paystream-Webhooks/1',
            },
            body,
            // A redirect could lead anywhere (an internal address): it is an answer, not a place to go.
            redirect: 'manual',
            signal: AbortSignal.timeout(deps.timeoutMs),
          });
          statusCode = res.status;
          await res.body?.cancel();
          if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
        } catch (err) {
          error =
            (err as Error).name === 'TimeoutError'
              ? `no answer within ${deps.timeoutMs} ms`
              : (err as Error).message;
        }
      await deps.store.recordAttempt(delivery, { statusCode, latencyMs: Date.now() - started, error });
      if (!error) {
        notificationMetrics.webhookAttempts.inc({ result: 'delivered' });
        return;
      }
      notificationMetrics.webhookAttempts.inc({ result: 'failed' });
      const health = await deps.store.endpoint(endpoint.id);
      const failingFor = health?.failingSince ? (Date.now() - health.failingSince.getTime()) / 1000 : 0;
      if (failingFor > deps.disableAfterSeconds) {
        await deps.store.setStatus(
          endpoint.id,
          'disabled',
          `failing since ${health!.failingSince!.toISOString()}`,
        );
        notificationMetrics.webhookEndpointsDisabled.inc();
        throw disabled(`endpoint ${endpoint.id} failed for ${Math.round(failingFor)} s and was disabled`);
      }
      throw new Error(`webhook to ${endpoint.id}: ${error}`);
    },

    async finishWebhookDelivery(deliveryId, status) {
      await deps.store.finish(deliveryId, status);
    },
  };
}
