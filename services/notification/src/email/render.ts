import type { AccountEmailRequest } from '@paystream/common/contracts';
import { formatAmount } from '@paystream/common/currencies';
import { type PaymentEvent } from '@paystream/common/events';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Who an event's email is for: the customer, or the merchant (what they must act on; disputes). */
export function audienceOf(status: PaymentEvent['status']): 'customer' | 'merchant' {
  return MERCHANT_STATUSES.has(status) ? 'merchant' : 'customer';
}
const MERCHANT_STATUSES: ReadonlySet<PaymentEvent['status']> = new Set([
  'authorization_expiring',
  'disputed',
  'dispute_won',
  'dispute_lost',
  'dispute_evidence_due',
]);

/** A date as the merchant reads it in a subject: the day, in UTC. */
const day = (iso?: string) => (iso ? iso.slice(0, 10) : 'unknown');
const when = (iso?: string) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : 'soon');

export function renderPaymentEmail(event: PaymentEvent): RenderedEmail {
  const amount = formatAmount(event.amount, event.currency);
  if (event.status === 'succeeded') {
    const captured = event.capturedAmount ?? event.amount;
    if (captured < event.amount) {
      const taken = formatAmount(captured, event.currency);
      return {
        subject: `Payment received — ${taken}`,
        text: `Thank you! We charged ${taken} of the ${amount} held on your card for order ${event.orderId}; the rest of the hold is released.\n`,
        html: `<p>Thank you! We charged <strong>${taken}</strong> of the ${amount} held on your card for order <code>${event.orderId}</code>; the rest of the hold is released.</p>`,
      };
    }
    return {
      subject: `Payment received — ${amount}`,
      text: `Thank you! We received your payment of ${amount} for order ${event.orderId}.\n`,
      html: `<p>Thank you! We received your payment of <strong>${amount}</strong> for order <code>${event.orderId}</code>.</p>`,
    };
  }
  if (event.status === 'authorized') {
    return {
      subject: `Payment authorized — ${amount}`,
      text: `Thank you! ${amount} is held on your card for order ${event.orderId}. You are charged when the order ships, and only for what ships; nothing has been taken yet.\n`,
      html: `<p>Thank you! <strong>${amount}</strong> is held on your card for order <code>${event.orderId}</code>. You are charged when the order ships, and only for what ships; nothing has been taken yet.</p>`,
    };
  }
  if (event.status === 'authorization_expiring') {
    const at = when(event.authorizationExpiresAt);
    return {
      subject: `Authorization of ${amount} lapses soon — order ${event.orderId}`,
      text: `The authorization of ${amount} for order ${event.orderId} (PaymentIntent ${event.paymentIntentId ?? 'unknown'}) lapses at ${at}. Capture it (in full or in part) or void it before then; otherwise Paystream handles it as configured (PAYMENT_AUTHORIZATION_EXPIRY).\n`,
      html: `<p>The authorization of <strong>${amount}</strong> for order <code>${event.orderId}</code> (PaymentIntent <code>${escapeHtml(event.paymentIntentId ?? 'unknown')}</code>) lapses at ${at}.</p><p>Capture it (in full or in part) or void it before then; otherwise Paystream handles it as configured (PAYMENT_AUTHORIZATION_EXPIRY).</p>`,
    };
  }
  if (event.dispute && MERCHANT_STATUSES.has(event.status)) {
    const d = event.dispute;
    const disputed = formatAmount(d.amount, event.currency);
    const facts = `Dispute ${d.id} (${d.reason}) on order ${event.orderId}, PaymentIntent ${event.paymentIntentId ?? 'unknown'}`;
    const [subject, line] =
      event.status === 'disputed'
        ? [
            `Dispute opened: ${disputed} on order ${event.orderId} — evidence due ${day(d.evidenceDueBy)}`,
            `The bank took back ${disputed}; refunds of this order are refused while the dispute is open. Submit evidence in Stripe's dashboard by ${when(d.evidenceDueBy)}.`,
          ]
        : event.status === 'dispute_evidence_due'
          ? [
              `Evidence due ${day(d.evidenceDueBy)}: dispute of ${disputed} on order ${event.orderId}`,
              `The evidence for this dispute is due by ${when(d.evidenceDueBy)}. Without it the dispute is lost.`,
            ]
          : event.status === 'dispute_won'
            ? [
                `Dispute won: ${disputed} on order ${event.orderId}`,
                `The bank decided for you: ${disputed} is returned to your balance.`,
              ]
            : [
                `Dispute lost: ${disputed} on order ${event.orderId}`,
                `The bank decided for the cardholder: ${disputed} stays with them.`,
              ];
    return {
      subject,
      text: `${line}\n${facts}.\n`,
      html: `<p>${escapeHtml(line)}</p><p>${escapeHtml(facts)}.</p>`,
    };
  }
  if (event.status === 'requires_action') {
    // The link is Stripe's own authentication page when Stripe gave one; otherwise the customer finishes
    // in the app, where Stripe.js takes the order's next action.
    const link = event.nextAction?.redirectUrl;
    return {
      subject: `Action needed — confirm your payment of ${amount}`,
      text: `Your bank asks you to confirm the payment of ${amount} for order ${event.orderId}.\n${link ? `Confirm it here: ${link}\n` : 'Open your order in the app to confirm it.\n'}If you do not, the order is cancelled and nothing is charged.\n`,
      html: `<p>Your bank asks you to confirm the payment of <strong>${amount}</strong> for order <code>${event.orderId}</code>.</p><p>${link ? `<a href="${escapeHtml(link)}">Confirm the payment</a>` : 'Open your order in the app to confirm it.'}</p><p>If you do not, the order is cancelled and nothing is charged.</p>`,
    };
  }
  if (event.status === 'cancelled') {
    return {
      subject: `Order cancelled — ${amount}`,
      text: `Your order ${event.orderId} of ${amount} is cancelled. Nothing was charged, and any hold on your card is released.\n`,
      html: `<p>Your order <code>${event.orderId}</code> of <strong>${amount}</strong> is cancelled. Nothing was charged, and any hold on your card is released.</p>`,
    };
  }
  if (event.status === 'partially_refunded' || event.status === 'refunded') {
    const refund = formatAmount(event.refundAmount ?? 0, event.currency);
    const total = formatAmount(event.refundedAmount ?? 0, event.currency);
    const whole = event.status === 'refunded' ? ' Your payment is now refunded in full.' : '';
    return {
      subject: `Refund of ${refund} — order ${event.orderId}`,
      text: `We refunded ${refund} of your payment of ${amount} for order ${event.orderId} (${total} refunded in all).${whole}\nIt reaches your card within 5–10 business days.\n`,
      html: `<p>We refunded <strong>${refund}</strong> of your payment of ${amount} for order <code>${event.orderId}</code> (${total} refunded in all).${whole}</p><p>It reaches your card within 5–10 business days.</p>`,
    };
  }
  const reason = event.failureReason ?? 'The payment could not be completed';
  return {
    subject: `Payment failed — ${amount}`,
    text: `Your payment of ${amount} for order ${event.orderId} did not go through: ${reason}.\nPlease check your card and try again.\n`,
    html: `<p>Your payment of <strong>${amount}</strong> for order <code>${event.orderId}</code> did not go through: ${escapeHtml(reason)}.</p><p>Please check your card and try again.</p>`,
  };
}

/** The account emails: a link to verify the address or reset the password, or word of a sign-up attempt. */
export function renderAccountEmail(request: AccountEmailRequest): RenderedEmail {
  const link = request.link ?? '';
  if (request.kind === 'verify_email')
    return {
      subject: 'Confirm your email address',
      text: `Confirm this address for your Paystream account (the link works for 24 hours, once):\n${link}\n\nIf you did not sign up, ignore this email.\n`,
      html: `<p>Confirm this address for your Paystream account (the link works for 24 hours, once):</p><p><a href="${escapeHtml(link)}">Confirm my address</a></p><p>If you did not sign up, ignore this email.</p>`,
    };
  if (request.kind === 'reset_password')
    return {
      subject: 'Reset your password',
      text: `Set a new password for your Paystream account (the link works for 30 minutes, once; every session is signed out):\n${link}\n\nIf you did not ask for it, ignore this email: your password is unchanged.\n`,
      html: `<p>Set a new password for your Paystream account (the link works for 30 minutes, once; every session is signed out):</p><p><a href="${escapeHtml(link)}">Reset my password</a></p><p>If you did not ask for it, ignore this email: your password is unchanged.</p>`,
    };
  return {
    subject: 'Someone tried to sign up with your address',
    text: 'Someone tried to create a Paystream account with this address, which already has one. If it was you, sign in, or reset your password if you forgot it. If not, nothing changed.\n',
    html: '<p>Someone tried to create a Paystream account with this address, which already has one. If it was you, sign in, or reset your password if you forgot it. If not, nothing changed.</p>',
  };
}
