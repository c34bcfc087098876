/**
 * The account email workflow's contract: one email per request of the user service (a verification link, a
 * password-reset link, word of a sign-up attempt on an address with an account), workflow id
 * `account-email-<id>`, so a retried request is one email. SMTP is retried like a payment email's; when the
 * budget is spent the workflow fails and the user asks again (a new link) — there is nothing to replay: a
 * reset link is worth 30 minutes.
 */
import type { AccountEmailRequest } from '@paystream/common/contracts';
import type { RetryBudget } from './notification';

export const ACCOUNT_EMAIL_WORKFLOW = 'accountEmailWorkflow';
export const accountEmailWorkflowId = (id: string): string => `account-email-${id}`;

export interface AccountEmailInput {
  request: AccountEmailRequest;
  retry: RetryBudget;
}

export function accountEmailStartOptions(
  request: AccountEmailRequest,
  retry: RetryBudget,
  taskQueue: string,
) {
  return {
    workflowId: accountEmailWorkflowId(request.id),
    taskQueue,
    args: [{ request, retry }] as [AccountEmailInput],
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
  };
}
