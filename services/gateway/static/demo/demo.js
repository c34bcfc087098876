// The demo checkout: plain browser JavaScript on the gateway's public API and Stripe.js.
'use strict';

const $ = (id) => document.getElementById(id);
const stripe = Stripe(document.querySelector('meta[name="stripe-publishable-key"]').content);
const card = stripe.elements().create('card');
const FINAL = new Set(['paid', 'failed', 'cancelled', 'refunded']);
let token = null;
// A refresh token renews the short access token; the device token marks this browser as one that signed
// in before (an attack on the account does not lock it out). Kept for the tab and the browser respectively.
let refreshToken = sessionStorage.getItem('paystream-refresh');

function say(text) {
  $('message').textContent = text;
}

/** One API call; a problem+json answer becomes an Error with its detail and field errors. */
async function api(method, path, body, headers = {}, retried = false) {
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
  // An expired access token: renewed once with the refresh token (which is rotated), then the call again.
  if (res.status === 401 && token && refreshToken && !retried) {
    remember(await api('POST', '/users/refresh', { refreshToken }, {}, true));
    return api(method, path, body, headers, true);
  }
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

function remember(session) {
  token = session.token;
  refreshToken = session.refreshToken;
  sessionStorage.setItem('paystream-refresh', refreshToken);
  if (session.deviceToken) localStorage.setItem('paystream-device', session.deviceToken);
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
    // The same answer for a new and a known address; a known one just signs in below.
    await api('POST', '/users/signup', { ...credentials, name: $('name').value });
    const deviceToken = localStorage.getItem('paystream-device') ?? undefined;
    const session = await api('POST', '/users/signin', { ...credentials, deviceToken });
    remember(session);
    $('account-form').hidden = true;
    $('signed-in').textContent = `Signed in as ${credentials.email}. ${
      session.emailVerified
        ? 'Address verified.'
        : 'Open the link we mailed you (Mailpit) to verify the address: payment emails wait for it.'
    }`;
    $('signed-in').hidden = false;
    $('account-actions').hidden = false;
    $('card-section').hidden = false;
    card.mount('#card-element');
  }),
);

$('forgot').addEventListener(
  'click',
  guarded(async () => {
    await api('POST', '/users/password-reset', { email: $('email').value });
    say(`If ${$('email').value} has an account, a reset link is on its way (valid 30 minutes).`);
  }),
);

$('signout-all').addEventListener(
  'click',
  guarded(async () => {
    await api('POST', '/users/signout-all', {});
    sessionStorage.removeItem('paystream-refresh');
    token = refreshToken = null;
    say('Signed out everywhere.');
    $('account-actions').hidden = true;
  }),
);

// The links the emails carry open this page: #verify=<token> or #reset=<token>.
const link = /^#(verify|reset)=([\w-]{43})$/.exec(location.hash);
if (link && link[1] === 'verify')
  api('POST', '/users/verify-email', { token: link[2] }).then(
    () => ($('link-result').textContent = 'Address verified: payment emails will reach it.'),
    (err) => ($('link-result').textContent = err.message),
  );
if (link && link[1] === 'reset') {
  $('reset-form').hidden = false;
  $('reset-form').addEventListener(
    'submit',
    guarded(async () => {
      await api('POST', '/users/password-reset/confirm', {
        token: link[2],
        newPassword: $('new-password').value,
      });
      $('reset-form').hidden = true;
      $('link-result').textContent = 'Password changed; every session was signed out. Sign in with it.';
    }),
  );
}

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
