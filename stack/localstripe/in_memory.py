"""Runs localstripe with its state in memory only, and with the webhooks Stripe sends that it lacks.

localstripe pickles its whole store to /tmp/localstripe.pickle on every write, so each request costs time
proportional to everything stored so far (a benchmark slowed to one order per second), and every
localstripe on the machine shares that one file. The local stack wants neither: state lives as long as
the process. Arguments are localstripe's own (--port, --from-scratch).

localstripe 1.15 sends no event when a customer fails 3-D Secure (`_authenticate` with success=false),
when a PaymentIntent is cancelled, or when a charge is refunded; Stripe sends
`payment_intent.payment_failed`, `payment_intent.canceled` and `charge.refunded`. They are added here,
after localstripe's own handling, so a Paystream deployment hears the same webhooks locally as it would
from Stripe (a refund made "in the dashboard" is a POST /v1/refunds here).
"""
import localstripe.resources as resources
from localstripe.webhooks import schedule_webhook

resources.Store.dump_to_disk = lambda self: None

_PaymentIntent = resources.PaymentIntent
_authenticate = _PaymentIntent._api_authenticate.__func__
_cancel = _PaymentIntent._api_cancel.__func__


def _authenticate_like_stripe(cls, id, client_secret=None, success=False, **kwargs):
    obj = _authenticate(cls, id, client_secret=client_secret, success=success, **kwargs)
    if obj._authentication_failed:
        schedule_webhook(resources.Event('payment_intent.payment_failed', obj))
    return obj


def _cancel_like_stripe(cls, id, **kwargs):
    obj = _cancel(cls, id, **kwargs)
    schedule_webhook(resources.Event('payment_intent.canceled', obj))
    return obj


_refund_create = resources.Refund._api_create.__func__


def _refund_like_stripe(cls, **data):
    obj = _refund_create(cls, **data)
    schedule_webhook(resources.Event('charge.refunded', resources.Charge._api_retrieve(obj.charge)))
    return obj


resources.Refund._api_create = classmethod(_refund_like_stripe)
_PaymentIntent._api_authenticate = classmethod(_authenticate_like_stripe)
_PaymentIntent._api_cancel = classmethod(_cancel_like_stripe)
# The routes were bound when localstripe.resources was imported; point them at the patched methods too.
_ROUTES = {
    '/v1/payment_intents/{id}/_authenticate': _PaymentIntent._api_authenticate,
    '/v1/payment_intents/{id}/cancel': _PaymentIntent._api_cancel,
}
resources.extra_apis[:] = [
    (method, url, _ROUTES.get(url, func)) if method == 'POST' else (method, url, func)
    for method, url, func in resources.extra_apis
]

from localstripe.server import start  # noqa: E402  (after the patches, on purpose)

start()
