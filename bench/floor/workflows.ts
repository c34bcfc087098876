/**
 * The no-op floor: Paystream's workflow shape with nothing inside — a payment workflow of 3 local
 * activities and 1 activity, then a notification workflow of 1 local activity. What it completes per
 * second on the same Temporal server is what the SDK and the server cost without any of our work.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { FloorActivities } from './activities';

const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '5s' });
const remote = proxyActivities<FloorActivities>({ startToCloseTimeout: '5s' });

export async function floorPayment(orderId: string): Promise<string> {
  await local.noop(orderId); // payment details
  await local.noop(orderId); // create the PaymentIntent
  await remote.noop(orderId); // confirm
  await local.noop(orderId); // publish payment.event
  return orderId;
}

export async function floorNotification(orderId: string): Promise<string> {
  await local.noop(orderId); // send the email
  return orderId;
}
