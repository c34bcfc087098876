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

Listing, for reconciliation: localstripe lists PaymentIntents oldest first with only `limit`/`starting_after`,
charges with `created[gt]` alone (any other form of `created` is a 500), refunds without `created`, and it
seeks `starting_after` inside the filtered list (a cursor outside it silently restarts at the first page).
Here `GET /v1/payment_intents`, `/v1/charges` and `/v1/refunds` take Stripe's `created` in every form
(`created=<unix seconds>` for an exact second, `created[gt|gte|lt|lte]`, bounds combined), the filters
Stripe has on each (`customer`; `customer`, `payment_intent`; `charge`, `payment_intent`), and
`limit`/`starting_after`/`ending_before` as cursors over the whole newest-first list, as Stripe's are.
A PaymentIntent also shows `amount_received`/`amount_capturable`, a charge `amount_captured`, and a refund
its `payment_intent` even when it was made with `charge` only. An intent that becomes `requires_capture`
(manual capture, after a confirm or a 3-D Secure challenge) sends `payment_intent.amount_capturable_updated`.

Disputes, which localstripe lacks: a charge taken from Stripe's dispute test card 4000000000000259 is
disputed (`fraudulent`, `needs_response`, evidence due in 7 days) a moment after it succeeds, with the
events Stripe sends (`charge.dispute.created`, `charge.dispute.funds_withdrawn`). `GET /v1/disputes` (with
`charge`, `payment_intent`, `created` and the cursors), `GET /v1/disputes/{id}` and `POST
/v1/disputes/{id}/close` (the merchant accepts it: lost) are Stripe's; test-only routes play the bank:
`POST /_test/disputes/{id}/close` with `status=won|lost` (`charge.dispute.closed`, and
`charge.dispute.funds_reinstated` when won), and `POST /_test/disputes/{id}/due` with `seconds` (the evidence
is due that many seconds from now; `charge.dispute.updated`).
"""
import asyncio
import operator
import time

from localstripe.errors import UserError
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
    elif obj.status == 'requires_capture':
        schedule_webhook(resources.Event('payment_intent.amount_capturable_updated', obj))
    return obj


_confirm = _PaymentIntent._confirm


def _confirm_like_stripe(self, on_failure_now):
    _confirm(self, on_failure_now)
    if self.status == 'requires_capture':
        schedule_webhook(resources.Event('payment_intent.amount_capturable_updated', self))


_PaymentIntent._confirm = _confirm_like_stripe


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


# --- Lists as Stripe filters and pages them ----------------------------------------------------------------

_BOUNDS = {'gt': operator.gt, 'gte': operator.ge, 'lt': operator.lt, 'lte': operator.le}


def _bad(param, message):
    return UserError(400, message, {'param': param})


def _timestamp(value, param):
    if isinstance(value, str) and value.strip().lstrip('-').isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _bad(param, 'Invalid integer: %s' % (value,))


def _created(created):
    """Stripe's `created`: an exact Unix second, or a dict of gt/gte/lt/lte bounds (all must hold)."""
    if created is None:
        return None
    if isinstance(created, dict):
        if not created:
            raise _bad('created', 'Invalid created: give a timestamp or created[gt|gte|lt|lte]')
        bounds = []
        for key, value in created.items():
            if key not in _BOUNDS:
                raise _bad('created[%s]' % key, 'Received unknown parameter: created[%s]' % key)
            bounds.append((_BOUNDS[key], _timestamp(value, 'created[%s]' % key)))
        return lambda obj: all(op(obj.created, bound) for op, bound in bounds)
    at = _timestamp(created, 'created')
    return lambda obj: obj.created == at


def _id_of(value, prefix, param):
    if not (isinstance(value, str) and value.startswith(prefix)):
        raise _bad(param, 'Invalid %s: %s' % (param, value))
    return value


class _Page(resources.List):
    """One page: `_list` holds every match past the cursor (so `charge.refunds._list` still sums them all)."""

    def __init__(self, url, limit, backwards):
        super().__init__(url, limit=limit)
        self._backwards = backwards  # ending_before: the page is the matches nearest the cursor, newer ones

    @property
    def data(self):
        page = self._list[-self._limit:] if self._backwards else self._list[:self._limit]
        return [item._export() for item in page]

    @property
    def has_more(self):
        return len(self._list) > self._limit


def _page(cls, url, filters, limit=None, starting_after=None, ending_before=None):
    """Objects of `cls` newest first (created, then store order: ties newest first too), filtered, after the
    cursor, which is a position in the whole list, so it need not match the filters itself."""
    if starting_after is not None and ending_before is not None:
        raise _bad('ending_before', 'You may only specify one of these parameters: starting_after, ending_before.')
    cursor, param = (starting_after, 'starting_after') if ending_before is None else (ending_before, 'ending_before')
    if cursor is not None:
        if not (isinstance(cursor, str) and cursor):
            raise _bad(param, 'Invalid %s: %s' % (param, cursor))
        if resources.store.get(cls.object + ':' + cursor) is None:
            raise UserError(400, "No such %s: '%s'" % (cls.object, cursor),
                            {'code': 'resource_missing', 'param': param})
    page = _Page(url, limit, backwards=ending_before is not None)
    prefix = cls.object + ':'
    everything = [obj for key, obj in resources.store.items() if key.startswith(prefix)]
    everything.reverse()
    everything.sort(key=lambda obj: obj.created, reverse=True)  # stable: same-second ties stay newest first
    if cursor is not None:
        at = next(i for i, obj in enumerate(everything) if obj.id == cursor)
        everything = everything[at + 1:] if ending_before is None else everything[:at]
    filters = [f for f in filters if f is not None]
    page._list = [obj for obj in everything if all(f(obj) for f in filters)]
    return page


def _unexpected(kwargs):
    if kwargs:
        raise UserError(400, 'Unexpected ' + ', '.join(kwargs.keys()))


def _customer_filter(customer):
    if customer is None:
        return None
    resources.Customer._api_retrieve(_id_of(customer, 'cus_', 'customer'))  # 404 if it does not exist
    return lambda obj: obj.customer == customer


def _list_payment_intents(cls, url, customer=None, created=None, limit=None, starting_after=None,
                          ending_before=None, **kwargs):
    _unexpected(kwargs)
    filters = [_customer_filter(customer), _created(created)]
    return _page(cls, url, filters, limit, starting_after, ending_before)


def _list_charges(cls, url, customer=None, payment_intent=None, created=None, limit=None,
                  starting_after=None, ending_before=None, **kwargs):
    _unexpected(kwargs)
    filters = [_customer_filter(customer), _created(created)]
    if payment_intent is not None:
        _PaymentIntent._api_retrieve(_id_of(payment_intent, 'pi_', 'payment_intent'))
        filters.append(lambda c: c.payment_intent == payment_intent)
    return _page(cls, url, filters, limit, starting_after, ending_before)


def _list_refunds(cls, url, charge=None, payment_intent=None, created=None, limit=None,
                  starting_after=None, ending_before=None, **kwargs):
    _unexpected(kwargs)
    filters = [_created(created)]
    if charge is not None:
        resources.Charge._api_retrieve(_id_of(charge, 'ch_', 'charge'))
        filters.append(lambda r: r.charge == charge)
    if payment_intent is not None:
        # localstripe looked up the intent's latest charge: an intent never charged was a 500, not [].
        _PaymentIntent._api_retrieve(_id_of(payment_intent, 'pi_', 'payment_intent'))
        filters.append(lambda r: r.payment_intent == payment_intent)
    return _page(cls, url, filters, limit, starting_after, ending_before)


_PaymentIntent._api_list_all = classmethod(_list_payment_intents)
resources.Charge._api_list_all = classmethod(_list_charges)
resources.Refund._api_list_all = classmethod(_list_refunds)

# --- Fields Stripe has and localstripe lacks ---------------------------------------------------------------

_refund_init = resources.Refund.__init__


def _refund_init_like_stripe(self, *args, **kwargs):
    _refund_init(self, *args, **kwargs)
    if self.payment_intent is None:  # made with `charge`, or by a partial capture: Stripe still names the intent
        self.payment_intent = resources.Charge._api_retrieve(self.charge).payment_intent


resources.Refund.__init__ = _refund_init_like_stripe

_charge_capture = resources.Charge._capture


def _capture_remembering_amount(self, amount, on_success=None):
    # Recorded before localstripe captures: payment_intent.succeeded is exported during the capture.
    before = getattr(self, '_captured_amount', None)
    self._captured_amount = self.amount if amount is None else resources.try_convert_to_int(amount)
    try:
        return _charge_capture(self, amount, on_success)
    except BaseException:
        self._captured_amount = before
        raise


def _amount_captured(self):
    if not (self.captured and self.status == 'succeeded'):
        return 0
    captured = getattr(self, '_captured_amount', None)
    return self.amount if captured is None else captured


def _amount_received(self):
    charge = self.latest_charge
    return 0 if charge is None else charge.amount_captured


def _amount_capturable(self):
    return self.latest_charge.amount if self.status == 'requires_capture' else 0


resources.Charge._capture = _capture_remembering_amount
resources.Charge.amount_captured = property(_amount_captured)
_PaymentIntent.amount_received = property(_amount_received)
_PaymentIntent.amount_capturable = property(_amount_capturable)

# --- Disputes --------------------------------------------------------------------------------------------

DISPUTE_CARD = '4000000000000259'
_OPEN_DISPUTE = ('warning_needs_response', 'warning_under_review', 'needs_response', 'under_review')


class Dispute(resources.StripeObject):
    object = 'dispute'
    _id_prefix = 'dp_'

    def __init__(self, charge):
        super().__init__()
        self.amount = charge.amount_captured
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = 'fraudulent'
        self.status = 'needs_response'
        self.is_charge_refundable = False
        self.evidence_details = {'due_by': self.created + 7 * 24 * 3600, 'has_evidence': False,
                                 'past_due': False, 'submission_count': 0}
        self.metadata = {}

    def _send(self, *types):
        for type in types:
            schedule_webhook(resources.Event(type, self))

    @classmethod
    def _api_create(cls, **data):
        raise UserError(405, 'Method Not Allowed')

    @classmethod
    def _list(cls, url, charge=None, payment_intent=None, created=None, limit=None, starting_after=None,
              ending_before=None, **kwargs):
        _unexpected(kwargs)
        filters = [_created(created)]
        if charge is not None:
            filters.append(lambda d: d.charge == _id_of(charge, 'ch_', 'charge'))
        if payment_intent is not None:
            filters.append(lambda d: d.payment_intent == _id_of(payment_intent, 'pi_', 'payment_intent'))
        return _page(cls, url, filters, limit, starting_after, ending_before)

    @classmethod
    def _close(cls, id, status='lost', **kwargs):
        _unexpected(kwargs)
        obj = cls._api_retrieve(id)
        if status not in ('won', 'lost'):
            raise _bad('status', 'Invalid status: %s' % status)
        if obj.status not in _OPEN_DISPUTE:
            raise UserError(400, 'This dispute is already closed', {'code': 'dispute_already_closed'})
        obj.status = status
        obj.evidence_details['past_due'] = False
        obj._send('charge.dispute.closed', *(('charge.dispute.funds_reinstated',) if status == 'won' else ()))
        return obj

    @classmethod
    def _accept(cls, id, **kwargs):
        """Stripe's POST /v1/disputes/{id}/close: the merchant accepts the dispute, which is then lost."""
        return cls._close(id, status='lost', **kwargs)

    @classmethod
    def _due(cls, id, seconds=None, **kwargs):
        _unexpected(kwargs)
        obj = cls._api_retrieve(id)
        obj.evidence_details['due_by'] = int(time.time()) + _timestamp(seconds, 'seconds')
        obj._send('charge.dispute.updated')
        return obj


def _dispute_if_test_card(charge):
    pm = resources.PaymentMethod._api_retrieve(charge.payment_method)
    if getattr(pm, '_card_number', None) != DISPUTE_CARD or not charge.payment_intent:
        return

    def open_dispute():
        Dispute(charge)._send('charge.dispute.created', 'charge.dispute.funds_withdrawn')
    # A moment after the charge, as Stripe does: its own success webhook goes first.
    asyncio.get_running_loop().call_later(0.5, open_dispute)


_trigger_payment = resources.Charge._trigger_payment


def _trigger_payment_then_dispute(self, on_success=None):
    def succeeded():
        if on_success:
            on_success()
        _dispute_if_test_card(self)
    return _trigger_payment(self, on_success=succeeded)


resources.Charge._trigger_payment = _trigger_payment_then_dispute
Dispute._api_list_all = classmethod(Dispute._list.__func__)
resources.extra_apis.extend((
    ('GET', '/v1/disputes', lambda **data: Dispute._api_list_all('/v1/disputes', **data)),
    ('GET', '/v1/disputes/{id}', lambda id, **data: Dispute._api_retrieve(id)),
    ('POST', '/v1/disputes/{id}/close', Dispute._accept),
    ('POST', '/_test/disputes/{id}/close', Dispute._close),
    ('POST', '/_test/disputes/{id}/due', Dispute._due),
))

from localstripe.server import start  # noqa: E402  (after the patches, on purpose)

start()
