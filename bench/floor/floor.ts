/**
 * Runs the no-op floor (workflows.ts) in this process: a worker with default options and a client with
 * default options on the stack's Temporal server, driven open-loop at a rate like the real system.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { floorActivities } from './activities';
import type { floorNotification, floorPayment } from './workflows';

export interface Floor {
  /** One order: the payment workflow to its end, then the notification workflow to its end. */
  order(): Promise<void>;
  close(): Promise<void>;
}

export async function startFloor(address: string, namespace: string): Promise<Floor> {
  const taskQueue = `bench-floor-${randomUUID().slice(0, 8)}`;
  const native = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: native,
    namespace,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: floorActivities,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    async order() {
      const orderId = randomUUID();
      await client.workflow.execute<typeof floorPayment>('floorPayment', {
        taskQueue,
        workflowId: `floor-payment-${orderId}`,
        args: [orderId],
      });
      await client.workflow.execute<typeof floorNotification>('floorNotification', {
        taskQueue,
        workflowId: `floor-notification-${orderId}`,
        args: [orderId],
      });
    },
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
      await native.close();
    },
  };
}
