import { formatAmount } from '@paystream/common/currencies';
import { type PaymentEvent } from '@paystream/common/events';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export function renderPaymentEmail(event: PaymentEvent): RenderedEmail {
  const amount = formatAmount(event.amount, event.currency);
  if (event.status === 'succeeded') {
    return {
      subject: `Payment received — ${amount}`,
      text: `Thank you! We received your payment of ${amount} for order ${event.orderId}.\n`,
      html: `<p>Thank you! We received your payment of <strong>${amount}</strong> for order <code>${event.orderId}</code>.</p>`,
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
      text: `Your order ${event.orderId} of ${amount} is cancelled. Nothing was charged.\n`,
      html: `<p>Your order <code>${event.orderId}</code> of <strong>${amount}</strong> is cancelled. Nothing was charged.</p>`,
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
