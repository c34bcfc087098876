import { requireService } from '@paystream/common/auth';
import { accountEmailRequest } from '@paystream/common/contracts';
import { validate } from '@paystream/common/http';
import { metrics } from '@paystream/common/metrics';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  ACCOUNT_EMAIL_WORKFLOW,
  accountEmailStartOptions,
  NOTIFICATIONS_TASK_QUEUE,
  type accountEmailWorkflow,
  type RetryBudget,
} from '@paystream/workflows';
import { Router } from 'express';

/**
 * POST /internal/account-emails (service token): the user service's verification and reset emails, each a
 * workflow with SMTP retries. 202 once it is started, or was already (a retried request is one email).
 */
export function accountEmailRoutes(deps: {
  client: Client;
  retry: RetryBudget;
  serviceToken: string;
  taskQueue?: string;
}): Router {
  const router = Router();
  router.post('/internal/account-emails', requireService(deps.serviceToken), async (req, res) => {
    const request = validate(accountEmailRequest, req.body);
    try {
      await deps.client.workflow.start<typeof accountEmailWorkflow>(
        ACCOUNT_EMAIL_WORKFLOW,
        accountEmailStartOptions(request, deps.retry, deps.taskQueue ?? NOTIFICATIONS_TASK_QUEUE),
      );
      metrics.workflowStarts.inc({ workflow: ACCOUNT_EMAIL_WORKFLOW, result: 'started' });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      metrics.workflowStarts.inc({ workflow: ACCOUNT_EMAIL_WORKFLOW, result: 'duplicate' });
    }
    res.status(202).end();
  });
  return router;
}
