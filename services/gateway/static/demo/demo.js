// The demo checkout: plain browser JavaScript on the gateway's public API and Stripe.js.
'use strict';

const $ = (id) => document.getElementById(id);
const stripe = Stripe(document.querySelector('meta[name="stripe-publishable-key"]').content);
const card = stripe.elements().create('card');
const FINAL = new Set(['paid', 'failed', 'cancelled', 'refunded']);
let token = null;

function say(text) {
  $('message').textContent = text;
}

/** One API call; a problem+json answer becomes an Error with its detail and field errors. */
async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const fields = (data.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
    const error = new Error(
      [data.detail ?? data.title ?? `HTTP ${res.status}`, fields].filter(Boolean).join(': '),
    );
    error.status = res.status;
    throw error;
  }
  return data;
}

function guarded(handler) {
  return async (event) => {
    event.preventDefault();
    const button = event.submitter ?? event.target;
    button.disabled = true;
    say('');
    try {
      await handler();
    } catch (err) {
      say(err.message);
    } finally {
      button.disabled = false;
    }
  };
}

$('email').value = `demo+${Date.now().toString(36)}@example.com`;
$('password').value = 'correct horse battery staple';
$('name').value = 'Demo Customer';

$('account-form').addEventListener(
  'submit',
  guarded(async () => {
    const credentials = { email: $('email').value, password: $('password').value };
    try {
      await api('POST', '/users/signup', { ...credentials, name: $('name').value });
    } catch (err) {
      if (err.status !== 409) throw err; // an existing account: just sign in
    }
    const session = await api('POST', '/users/signin', credentials);
    token = session.token;
    $('account-form').hidden = true;
    $('signed-in').textContent = `Signed in as ${credentials.email}.`;
    $('signed-in').hidden = false;
    $('card-section').hidden = false;
    card.mount('#card-element');
  }),
);

$('card-form').addEventListener(
  'submit',
  guarded(async () => {
    // A SetupIntent lets the bank authenticate the card now (3-D Secure) for payments made later.
    const { clientSecret } = await api('POST', '/users/setup-intent', {});
    const result = await stripe.confirmCardSetup(clientSecret, { payment_method: { card } });
    if (result.error) throw new Error(result.error.message ?? 'The card was not saved');
    const pm = result.setupIntent.payment_method;
    const saved = await api('POST', '/users/add', { paymentMethodId: typeof pm === 'string' ? pm : pm.id });
    $('card-saved').textContent = `Saved: ${saved.brand} •••• ${saved.last4}.`;
    $('card-saved').hidden = false;
    $('order-section').hidden = false;
  }),
);

function show(order) {
  $('order-id').textContent = order.orderId;
  const status = $('order-status');
  if (status.dataset.status === order.status) return;
  status.dataset.status = order.status;
  status.textContent = order.status;
  const entry = document.createElement('li');
  const reason = order.failureReason ? ` (${order.failureReason})` : '';
  entry.textContent = `${new Date().toLocaleTimeString()} ${order.status}${reason}`;
  $('timeline').append(entry);
  // Paid: a cancel refunds it; authorized (pay later): a cancel releases the hold.
  $('cancel').hidden = order.status !== 'paid' && order.status !== 'authorized';
  $('cancel').textContent = order.status === 'authorized' ? 'Cancel (release the hold)' : 'Cancel (refund)';
  $('capture-hint').hidden = order.status !== 'authorized';
  $('console-link').href = `/console#order=${order.orderId}`;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const PATIENCE_MS = 120_000;

/**
 * Polls the order until it settles; hands a 3-D Secure challenge to Stripe.js when one comes. Gives up
 * after two minutes without a change (the order goes on without this page; reload to look again), but
 * waits as long as it takes for the merchant to capture an authorized one.
 */
async function follow(orderId, settled = FINAL) {
  let challenged = false;
  let last = '';
  let changedAt = Date.now();
  for (;;) {
    // Authorized (paying later) waits for the merchant's capture: no patience runs out on that.
    if (last !== 'authorized' && Date.now() - changedAt > PATIENCE_MS)
      throw new Error(`Still ${last || 'waiting'} after two minutes; the order goes on, check it later.`);
    let order;
    try {
      order = await api('GET', `/orders/status/${orderId}`);
    } catch (err) {
      if (err.status !== undefined && err.status !== 429 && err.status < 500) throw err;
      await pause(2000);
      continue;
    }
    if (order.status !== last) [last, changedAt] = [order.status, Date.now()];
    show(order);
    if (settled.has(order.status)) return order;
    if (order.status === 'requires_action' && order.nextAction && !challenged) {
      challenged = true;
      const result = await stripe.confirmCardPayment(order.nextAction.clientSecret);
      if (result.error) say(result.error.message ?? 'Authentication failed');
    }
    await pause(order.status === 'authorized' ? 3000 : 1000);
  }
}

const newKey = () =>
  crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;

$('order-form').addEventListener(
  'submit',
  guarded(async () => {
    $('timeline').replaceChildren();
    $('order-status').dataset.status = '';
    $('cancel').hidden = true;
    const amount = Math.round(Number($('amount').value) * 100);
    const later = $('pay-later').checked;
    const order = await api(
      'POST',
      '/orders/create',
      { amount, currency: $('currency').value, ...(later ? { capture: 'manual' } : {}) },
      { 'idempotency-key': newKey() },
    );
    await follow(order.orderId);
  }),
);

$('cancel').addEventListener(
  'click',
  guarded(async () => {
    const orderId = $('order-id').textContent;
    await api('POST', `/orders/${orderId}/cancel`);
    await follow(orderId, new Set(['cancelled', 'refunded']));
  }),
);
