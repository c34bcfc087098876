import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { cfg, temporalBinaryPath } from '../support';
import { greetWorkflow } from './fixtures/greet-workflow';

const workflowsPath = require.resolve('./fixtures/greet-workflow');
const activities = { greet: (name: string) => Promise.resolve(`hello ${name}`) };

describe('Temporal', () => {
  it('runs a workflow on a dev server started by @temporalio/testing from the built CLI binary', async () => {
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: temporalBinaryPath() }, ip: '127.0.0.1' },
    });
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'infra-test',
        workflowsPath,
        activities,
      });
      const result = await worker.runUntil(
        env.client.workflow.execute(greetWorkflow, {
          taskQueue: 'infra-test',
          workflowId: randomUUID(),
          args: ['ada'],
        }),
      );
      expect(result).toBe('workflow says: hello ada');
    } finally {
      await env.teardown();
    }
  });

  it('runs a workflow on the stack dev server and keeps its history', async () => {
    const nativeConnection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
    const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
    const taskQueue = `infra-${randomUUID()}`;
    const workflowId = `infra-greet-${randomUUID()}`;
    try {
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowsPath,
        activities,
      });
      const result = await worker.runUntil(
        client.workflow.execute(greetWorkflow, { taskQueue, workflowId, args: ['grace'] }),
      );
      expect(result).toBe('workflow says: hello grace');
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const types = (history.events ?? []).map((e) => e.eventType);
      expect(types.length).toBeGreaterThan(5);
      const described = await client.workflow.getHandle(workflowId).describe();
      expect(described.status.name).toBe('COMPLETED');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
