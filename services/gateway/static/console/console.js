// The operator console: plain browser JavaScript on the operator API (/admin/*) alone. Everything it shows is
// written as text (textContent, attributes), never parsed as HTML, so no value from an order, an error or a
// webhook URL can become markup. The API key lives in this script's memory only.
'use strict';

const $ = (id) => document.getElementById(id);
let apiKey = null;
let scopes = [];
let current = null; // the order on show: { id, currency }
let refreshTimer = null;
let ordersCursor = null;

/** An element with attributes (never `innerHTML`) and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  return el;
}

function say(text, ok = false) {
  $('message').textContent = text;
  $('message').className = ok ? 'ok' : '';
}

/** One call to the operator API; a problem+json answer becomes an Error with its detail and field errors. */
async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
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

/** A button or form handler that shows its failure instead of throwing it away. */
function guarded(handler) {
  return async (event) => {
    event.preventDefault();
    const button = event.submitter ?? event.currentTarget;
    if (button instanceof HTMLButtonElement) button.disabled = true;
    say('');
    try {
      await handler(event);
    } catch (err) {
      say(err.message);
    } finally {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    }
  };
}

const can = (scope) => scopes.includes(scope);
const timeOf = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const digits = (currency) =>
  new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions()
    .maximumFractionDigits;
const money = (minor, currency) =>
  minor === null || minor === undefined
    ? ''
    : new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() }).format(
        minor / 10 ** digits(currency),
      );
/** "12.50" in the order's currency → minor units; empty → undefined (all of it). */
function minorUnits(text, currency) {
  const value = text.trim();
  if (!value) return undefined;
  if (!/^\d+([.,]\d+)?$/.test(value)) throw new Error(`Not an amount: ${value}`);
  return Math.round(Number(value.replace(',', '.')) * 10 ** digits(currency));
}
const fill = (tbody, rows) => tbody.replaceChildren(...rows);
const cells = (...values) => values.map((v) => h('td', {}, v));

// --- signing in --------------------------------------------------------------------------------------------

$('sign-in-form').addEventListener(
  'submit',
  guarded(async () => {
    apiKey = $('api-key').value.trim();
    try {
      const key = await api('GET', '/admin/key');
      scopes = key.scopes;
      $('who').textContent = `Signed in as "${key.name}" (${key.scopes.join(', ')})`;
    } catch (err) {
      apiKey = null;
      throw err;
    }
    $('api-key').value = '';
    $('sign-in').hidden = true;
    $('tabs').hidden = false;
    $('who').hidden = false;
    await loadEnums();
    await show('orders');
    // /console#order=<id> (the demo links an authorized order here): that order, open.
    const linked = /^#order=([0-9a-f-]{36})$/i.exec(location.hash);
    if (linked) await openOrder(linked[1]);
  }),
);

$('sign-out').addEventListener('click', () => {
  apiKey = null;
  scopes = [];
  stopRefresh();
  for (const tab of document.querySelectorAll('.tab')) tab.hidden = true;
  $('tabs').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  say('');
});

/** The order statuses and event types, from the contract the services' own schemas make. */
async function loadEnums() {
  const spec = await (await fetch('/openapi.json')).json().catch(() => ({ paths: {} }));
  const status = spec.paths?.['/admin/orders']?.get?.parameters?.find((p) => p.name === 'status');
  const statuses = status?.schema?.enum ?? [];
  $('search-status').replaceChildren(
    h('option', { value: '' }, 'any'),
    ...statuses.map((s) => h('option', { value: s }, s)),
  );
  const body =
    spec.paths?.['/admin/webhooks/endpoints']?.post?.requestBody?.content?.['application/json']?.schema ?? {};
  const types = body.properties?.eventTypes?.items?.enum ?? [];
  $('endpoint-types').replaceChildren(
    h('legend', {}, 'Events'),
    ...types.map((t) => h('label', { class: 'inline' }, h('input', { type: 'checkbox', value: t }), ` ${t}`)),
  );
}

// --- tabs --------------------------------------------------------------------------------------------------

const loaders = {
  orders: async () => Promise.all([loadChart(), searchOrders()]),
  dlq: () => loadDlq(),
  drift: () => loadDrift(),
  webhooks: () => loadEndpoints(),
  audit: () => loadAudit(),
};

async function show(tab) {
  for (const section of document.querySelectorAll('.tab')) section.hidden = section.id !== tab;
  for (const button of document.querySelectorAll('#tabs [data-tab]'))
    if (button.dataset.tab === tab) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  if (tab !== 'orders') stopRefresh();
  // A signing secret is shown once: not again after the operator went elsewhere.
  $('endpoint-secret').textContent = '';
  $('endpoint-secret-note').hidden = true;
  await loaders[tab]();
}

for (const button of document.querySelectorAll('#tabs [data-tab]'))
  button.addEventListener(
    'click',
    guarded(() => show(button.dataset.tab)),
  );

// --- orders ------------------------------------------------------------------------------------------------

function orderQuery() {
  const params = new URLSearchParams({ limit: '25' });
  const text = $('search-text').value.trim();
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) {
    // An id is an order's or a customer's: the order first.
    params.set('orderId', text);
  } else if (text) params.set('customer', text);
  if ($('search-status').value) params.set('status', $('search-status').value);
  if ($('search-from').value) params.set('from', new Date($('search-from').value).toISOString());
  if ($('search-to').value) params.set('to', new Date(`${$('search-to').value}T23:59:59.999`).toISOString());
  return params;
}

async function searchOrders(more = false) {
  const params = orderQuery();
  if (more && ordersCursor) params.set('cursor', ordersCursor);
  let page = await api('GET', `/admin/orders?${params}`);
  if (!more && !page.orders.length && params.has('orderId')) {
    // Not an order's id: perhaps a customer's.
    params.delete('orderId');
    params.set('customer', $('search-text').value.trim());
    page = await api('GET', `/admin/orders?${params}`);
  }
  ordersCursor = page.nextCursor;
  $('more-orders').hidden = !ordersCursor;
  const rows = page.orders.map((o) =>
    h(
      'tr',
      {},
      cells(
        timeOf(o.createdAt),
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            'data-order': o.orderId,
            onclick: guarded(() => openOrder(o.orderId)),
          },
          o.orderId,
        ),
        h('span', { class: 'status', 'data-status': o.status }, o.status),
        money(o.amount, o.currency),
      ),
    ),
  );
  const tbody = $('order-list').tBodies[0];
  if (more) tbody.append(...rows);
  else fill(tbody, rows);
  if (!rows.length && !more) fill(tbody, [h('tr', {}, h('td', { colspan: 4 }, 'No orders match.'))]);
}

$('order-search').addEventListener(
  'submit',
  guarded(() => searchOrders()),
);
$('more-orders').addEventListener(
  'click',
  guarded(() => searchOrders(true)),
);

function stopRefresh() {
  clearInterval(refreshTimer);
  refreshTimer = null;
}

async function openOrder(orderId) {
  current = { id: orderId };
  await renderOrder();
  $('order').hidden = false;
  $('order').scrollIntoView();
  // The order's story goes on while it is on screen (a refund lands, a webhook is delivered).
  stopRefresh();
  refreshTimer = setInterval(() => renderOrder().catch((err) => say(err.message)), 3000);
}

async function renderOrder() {
  if (!current) return;
  const orderId = current.id;
  const [timeline, audit] = await Promise.all([
    api('GET', `/admin/orders/${orderId}`),
    can('audit:read')
      ? api('GET', `/admin/audit?target=${encodeURIComponent(`order:${orderId}`)}`)
      : Promise.resolve(null),
  ]);
  if (current?.id !== orderId) return;
  const { order } = timeline;
  current.currency = order.currency;
  $('order-id').textContent = order.orderId;
  $('order-status').textContent = order.status;
  $('order-status').dataset.status = order.status;
  $('order-amount').textContent = money(order.amount, order.currency);
  $('order-customer').textContent = `customer ${order.userId}`;
  const temporal = timeline.links?.temporal ?? '';
  if (/^https?:\/\//.test(temporal)) $('order-temporal').setAttribute('href', temporal);
  else $('order-temporal').removeAttribute('href');

  const payment = timeline.ledger?.payment;
  $('refund-form').hidden = !can('refunds:write');
  $('capture-form').hidden = !(can('captures:write') && payment?.status === 'authorized');
  $('void-order').hidden = !(can('captures:write') && payment?.status === 'authorized');

  $('order-steps').replaceChildren(
    ...timeline.steps.map((s) =>
      h(
        'li',
        {},
        h('time', {}, timeOf(s.at)),
        ' ',
        h('span', { class: 'status', 'data-status': s.status }, s.status),
        ` (${s.type})`,
      ),
    ),
  );
  const movements = timeline.ledger?.movements ?? [];
  fill(
    $('order-ledger').tBodies[0],
    timeline.ledger
      ? movements.map((m) =>
          h(
            'tr',
            { 'data-kind': m.kind },
            cells(timeOf(m.occurredAt), m.kind, money(m.amount, m.currency), m.stripeObjectId),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 4 }, 'The payment service did not answer.'))],
  );
  const disputes = timeline.ledger?.disputes ?? [];
  $('order-disputes').textContent = disputes.length
    ? `Disputes: ${disputes.map((d) => `${d.disputeId ?? d.id} ${d.status} (${d.reason ?? 'no reason'})`).join('; ')}`
    : '';
  const notifications = timeline.notifications;
  $('order-emails').replaceChildren(
    ...(notifications
      ? notifications.emails.map((e) =>
          h('li', { 'data-status': e.status }, `${e.status}: started ${timeOf(e.startedAt)}`),
        )
      : [h('li', {}, 'The notification service did not answer.')]),
  );
  fill($('order-webhooks').tBodies[0], (notifications?.webhooks ?? []).map(deliveryRow));
  fill(
    $('order-audit').tBodies[0],
    audit
      ? audit.entries.map((a) =>
          h('tr', {}, cells(timeOf(a.at), a.action, a.keyName, a.reason ?? '', a.outcome)),
        )
      : [h('tr', {}, h('td', { colspan: 5 }, 'This key cannot read the audit log (audit:read).'))],
  );
}

/** A webhook delivery with its last attempt, and a button to send it again. */
function deliveryRow(d) {
  const last = d.attemptLog?.at(-1);
  const lastText = last ? `${last.statusCode ?? 'no answer'}${last.error ? ` — ${last.error}` : ''}` : '';
  return h(
    'tr',
    { 'data-event': d.eventType, 'data-status': d.status },
    cells(
      d.eventType,
      d.endpointId,
      h('span', { class: 'status', 'data-status': d.status }, d.status),
      `${d.attempts} (${lastText})`,
      can('webhooks:write')
        ? h(
            'button',
            {
              type: 'button',
              onclick: guarded(async () => {
                await api('POST', `/admin/webhooks/deliveries/${d.id}/redeliver`);
                say('Sent again.', true);
              }),
            },
            'Redeliver',
          )
        : '',
    ),
  );
}

/**
 * The Idempotency-Key of a money action: a fresh one per action, but the same one again when the last try of the
 * same action (same order, same fields) got no answer or a 5xx — asking again is then the same refund or
 * capture, never a second one.
 */
const pendingKeys = new Map();
async function once(action, fields, send) {
  const what = JSON.stringify([action, current.id, fields]);
  const key = pendingKeys.get(what) ?? crypto.randomUUID();
  pendingKeys.set(what, key);
  try {
    const answer = await send(key);
    pendingKeys.delete(what);
    return answer;
  } catch (err) {
    if (err.status !== undefined && err.status < 500) pendingKeys.delete(what);
    throw err;
  }
}

$('refund-form').addEventListener(
  'submit',
  guarded(async () => {
    const amount = minorUnits($('refund-amount').value, current.currency);
    const reason = $('refund-reason').value.trim();
    const body = { ...(amount === undefined ? {} : { amount }), ...(reason ? { reason } : {}) };
    const refund = await once('refund', body, (key) =>
      api('POST', `/admin/orders/${current.id}/refunds`, body, { 'idempotency-key': key }),
    );
    $('refund-amount').value = '';
    $('refund-reason').value = '';
    say(`Refunded ${money(refund.amount, current.currency)} (${refund.refundId}).`, true);
    await renderOrder();
  }),
);

$('capture-form').addEventListener(
  'submit',
  guarded(async () => {
    const amount = minorUnits($('capture-amount').value, current.currency);
    const body = amount === undefined ? {} : { amount };
    const captured = await once('capture', body, (key) =>
      api('POST', `/admin/orders/${current.id}/capture`, body, { 'idempotency-key': key }),
    );
    say(`Captured ${money(captured.capturedAmount ?? amount, current.currency)}.`, true);
    await renderOrder();
  }),
);

$('void-order').addEventListener(
  'click',
  guarded(async () => {
    await api('POST', `/admin/orders/${current.id}/void`);
    say('Authorization voided.', true);
    await renderOrder();
  }),
);

// --- the chart: orders per minute by outcome ---------------------------------------------------------------

const OUTCOMES = ['paid', 'authorized', 'failed', 'cancelled', 'refunded', 'disputed'];
/** The step an order took, by the bar it adds to: a partial refund is a refund, each dispute step a dispute. */
const outcomeOf = (status) =>
  status === 'partially_refunded' ? 'refunded' : status.startsWith('dispute') ? 'disputed' : status;
/** A minute's steps counted by outcome. */
function byOutcome(counts) {
  const out = {};
  for (const [status, n] of Object.entries(counts))
    out[outcomeOf(status)] = (out[outcomeOf(status)] ?? 0) + n;
  return out;
}
const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}) => {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
};

async function loadChart() {
  const minutes = (await api('GET', '/admin/stats/orders?minutes=60')).minutes.map((m) => ({
    minute: m.minute,
    counts: byOutcome(m.counts),
  }));
  const width = 720;
  const height = 140;
  const barWidth = width / 60;
  const now = Math.floor(Date.now() / 60_000);
  const totals = minutes.map((m) => OUTCOMES.reduce((n, o) => n + (m.counts[o] ?? 0), 0));
  const top = Math.max(1, ...totals);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + 20}`, role: 'img' });
  chart.append(svg('title'));
  chart.firstChild.textContent = `Orders per minute by outcome, last hour (most in a minute: ${top})`;
  for (const m of minutes) {
    const slot = 59 - (now - Math.floor(Date.parse(m.minute) / 60_000));
    if (slot < 0 || slot > 59) continue;
    let y = height;
    for (const outcome of OUTCOMES) {
      const n = m.counts[outcome] ?? 0;
      if (!n) continue;
      const h2 = (n / top) * height;
      y -= h2;
      const bar = svg('rect', {
        x: slot * barWidth + 1,
        y,
        width: barWidth - 2,
        height: h2,
        class: `bar ${outcome}`,
      });
      const tip = svg('title');
      tip.textContent = `${new Date(m.minute).toLocaleTimeString()}: ${n} ${outcome}`;
      bar.append(tip);
      chart.append(bar);
    }
  }
  chart.append(svg('line', { x1: 0, y1: height, x2: width, y2: height, class: 'axis' }));
  const legend = h(
    'p',
    { class: 'legend' },
    OUTCOMES.map((o) => h('span', { class: `key ${o}` }, o)),
  );
  $('chart').replaceChildren(chart, legend);
}

// --- the email dead letter queue ---------------------------------------------------------------------------

async function loadDlq() {
  const { entries } = await api('GET', '/admin/dlq');
  $('dlq-replay-all').hidden = !can('dlq:write') || !entries.length;
  fill(
    $('dlq-list').tBodies[0],
    entries.length
      ? entries.map((r) => {
          const orderId = r.entry?.original?.orderId ?? r.key ?? '';
          return h(
            'tr',
            {},
            cells(
              timeOf(r.entry?.failedAt),
              orderId,
              r.entry?.attempts ?? '',
              r.entry?.error ?? r.unreadable ?? '',
              can('dlq:write') && orderId
                ? h('button', { type: 'button', onclick: guarded(() => replay({ orderId })) }, 'Replay')
                : '',
            ),
          );
        })
      : [h('tr', {}, h('td', { colspan: 5 }, 'Nothing is waiting: every email went out.'))],
  );
}

async function replay(select) {
  const { outcomes } = await api('POST', '/admin/dlq/replay', select);
  say(
    `Replay: ${outcomes.map((o) => `${o.orderId ?? ''} ${o.outcome}`).join(', ') || 'nothing to replay'}.`,
    true,
  );
  await loadDlq();
}

$('dlq-replay-all').addEventListener(
  'click',
  guarded(() => replay({ all: true })),
);

// --- reconciliation drift ----------------------------------------------------------------------------------

async function loadDrift() {
  const { drift } = await api('GET', `/admin/drift?all=${$('drift-all').checked}`);
  fill(
    $('drift-list').tBodies[0],
    drift.length
      ? drift.map((d) => {
          const reason = h('input', {
            placeholder: 'why it is resolved',
            maxlength: 500,
            'aria-label': 'reason',
          });
          const resolve =
            can('recon:write') && !d.resolvedAt
              ? h(
                  'form',
                  {
                    class: 'row',
                    onsubmit: guarded(async () => {
                      await api('POST', `/admin/drift/${d.id}/resolve`, { reason: reason.value.trim() });
                      await loadDrift();
                    }),
                  },
                  reason,
                  h('button', { type: 'submit' }, 'Resolve'),
                )
              : (d.resolution ?? '');
          return h(
            'tr',
            {},
            cells(
              timeOf(d.lastSeenAt),
              d.kind,
              d.orderId ?? '',
              money(d.ledgerAmount, d.currency ?? 'eur'),
              money(d.stripeAmount, d.currency ?? 'eur'),
              d.detail,
              resolve,
            ),
          );
        })
      : [h('tr', {}, h('td', { colspan: 7 }, 'No drift: the ledger and Stripe agree.'))],
  );
}

$('drift-all').addEventListener(
  'change',
  guarded(() => loadDrift()),
);

// --- webhook endpoints and their deliveries ----------------------------------------------------------------

async function loadEndpoints() {
  $('endpoint-form').hidden = !can('webhooks:write');
  const { endpoints } = await api('GET', '/admin/webhooks/endpoints');
  const action = (e, verb, label) =>
    h(
      'button',
      {
        type: 'button',
        onclick: guarded(async () => {
          const answer = await api(
            'POST',
            `/admin/webhooks/endpoints/${e.id}/${verb}`,
            verb === 'rotate' ? {} : undefined,
          );
          if (answer.secret) showSecret(answer.secret);
          await loadEndpoints();
        }),
      },
      label,
    );
  fill(
    $('endpoint-list').tBodies[0],
    endpoints.map((e) =>
      h(
        'tr',
        { 'data-endpoint': e.id },
        cells(
          h('button', { type: 'button', class: 'link', onclick: guarded(() => loadDeliveries(e.id)) }, e.id),
          e.url,
          e.eventTypes.join(', '),
          h(
            'span',
            { class: 'status', 'data-status': e.status },
            e.status + (e.disabledReason ? ` (${e.disabledReason})` : ''),
          ),
          [
            e.status === 'enabled' ? action(e, 'disable', 'Disable') : action(e, 'enable', 'Enable'),
            ' ',
            action(e, 'rotate', 'Rotate secret'),
          ],
        ),
      ),
    ),
  );
}

function showSecret(secret) {
  $('endpoint-secret').textContent = secret;
  $('endpoint-secret-note').hidden = false;
}

async function loadDeliveries(endpointId) {
  const { deliveries } = await api(
    'GET',
    `/admin/webhooks/deliveries?endpointId=${encodeURIComponent(endpointId)}`,
  );
  $('deliveries-title').textContent = `Deliveries to ${endpointId}`;
  $('deliveries-title').hidden = false;
  $('delivery-list').hidden = false;
  fill(
    $('delivery-list').tBodies[0],
    deliveries.map((d) => {
      const row = deliveryRow(d);
      row.prepend(h('td', {}, timeOf(d.createdAt)));
      row.children[2].textContent = d.orderId; // the endpoint column becomes the order's
      return row;
    }),
  );
}

$('endpoint-form').addEventListener(
  'submit',
  guarded(async () => {
    const eventTypes = [...$('endpoint-types').querySelectorAll('input:checked')].map((i) => i.value);
    const description = $('endpoint-description').value.trim();
    const made = await api('POST', '/admin/webhooks/endpoints', {
      url: $('endpoint-url').value.trim(),
      eventTypes,
      ...(description ? { description } : {}),
    });
    showSecret(made.secret);
    $('endpoint-form').reset();
    await loadEndpoints();
  }),
);

// --- the audit log -----------------------------------------------------------------------------------------

async function loadAudit() {
  if (!can('audit:read')) {
    fill($('audit-list').tBodies[0], [
      h('tr', {}, h('td', { colspan: 6 }, 'This key cannot read the audit log (audit:read).')),
    ]);
    return;
  }
  const target = $('audit-target').value.trim();
  const { entries } = await api(
    'GET',
    `/admin/audit?limit=100${target ? `&target=${encodeURIComponent(target)}` : ''}`,
  );
  fill(
    $('audit-list').tBodies[0],
    entries.map((a) =>
      h('tr', {}, cells(timeOf(a.at), a.action, a.target, a.keyName, a.reason ?? '', a.outcome)),
    ),
  );
}

$('audit-search').addEventListener(
  'submit',
  guarded(() => loadAudit()),
);
