import * as z from 'zod/mini';
import { actionDeps } from '../../composition/actions';
import { inTenantScope, isTenantId } from '../../composition/tenant-scope';
import { drainTurnEvents } from '../../composition/turn-events';
import type { ActionDeps } from '../../domain/actions/deps';
import {
  attachDecisionToken,
  checkDecision,
  closeUnapproved,
  executeApproved,
  notifyApprovers,
  recordApprovalRequest,
} from '../../domain/approvals/workflow';
import { AppError } from '../../domain/shared/errors';
import { lazySchema } from '../../domain/shared/zod';
import { logger } from '../../observability';

/**
 * The approval workflow's one step Lambda (statemachines/approval.asl.json): every Task invokes
 * it with a `step` and the approval's ids, and it runs that step's use case from
 * domain/approvals/workflow.ts. The event is validated here, because the ASL is a file the
 * compiler does not see: a bad event fails as `Approval.InvalidInput`, which no Retry names.
 */

const id = () => z.string().check(z.minLength(1), z.maxLength(64));
const tenantId = () => id().check(z.refine(isTenantId, 'must be a tenant id'));
const ids = () => ({ tenantId: tenantId(), approvalId: id(), actionId: id() });

export const approvalStepEvent = lazySchema(() =>
  z.discriminatedUnion('step', [
    z.object({ step: z.literal('record'), ...ids(), executionId: z.string().check(z.minLength(1)) }),
    z.object({ step: z.literal('notify'), ...ids() }),
    z.object({
      step: z.literal('wait'),
      ...ids(),
      executionId: z.string().check(z.minLength(1)),
      taskToken: z.string().check(z.minLength(1), z.maxLength(1024)),
    }),
    z.object({ step: z.literal('check'), ...ids() }),
    z.object({ step: z.literal('execute'), ...ids() }),
    z.object({
      step: z.literal('close'),
      ...ids(),
      outcome: z.enum(['rejected', 'expired', 'cancelled', 'failed']),
    }),
  ]),
);
export type ApprovalStepEvent = z.output<ReturnType<typeof approvalStepEvent>>;

/** The step's event is not what the state machine should send: a bug, never retried. */
export class ApprovalStepInputError extends Error {
  override readonly name = 'Approval.InvalidInput';
}

/**
 * Domain errors renamed after their code (`Approval.CONFLICT`, `Approval.PROVIDER_UNAVAILABLE`,
 * ...), which the ASL's Retry names: class names, which `AppError` uses as `name`, do not
 * survive the bundle's minification.
 */
export class ApprovalStepFailure extends Error {
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

function asStepError(error: unknown): unknown {
  return error instanceof AppError
    ? new ApprovalStepFailure(`Approval.${error.code}`, error.message, { cause: error })
    : error;
}

export function parseApprovalStepEvent(event: unknown): ApprovalStepEvent {
  const result = approvalStepEvent().safeParse(event);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
    throw new ApprovalStepInputError(`Approval step event: ${problems.join('; ')}`);
  }
  return result.data;
}

function run(deps: ActionDeps, event: ApprovalStepEvent): Promise<{ outcome: string }> {
  const { tenantId, approvalId, actionId } = event;
  const input = { tenantId, approvalId, actionId };
  switch (event.step) {
    case 'record':
      return recordApprovalRequest(deps, { ...input, executionId: event.executionId });
    case 'notify':
      return notifyApprovers(deps, input);
    case 'wait':
      return attachDecisionToken(deps, {
        ...input,
        executionId: event.executionId,
        taskToken: event.taskToken,
      });
    case 'check':
      return checkDecision(deps, input);
    case 'execute':
      return executeApproved(deps, input);
    case 'close':
      return closeUnapproved(deps, { ...input, outcome: event.outcome });
  }
}

/** The handler over given dependencies (tests and local mode pass their own). */
export function approvalStepHandler(deps: () => ActionDeps) {
  return async (event: unknown): Promise<{ outcome: string }> => {
    const parsed = parseApprovalStepEvent(event);
    const { step, tenantId, approvalId, actionId } = parsed;
    try {
      // Every step is one tenant's work: its credentials, and only its.
      const result = await inTenantScope(tenantId, () => run(deps(), parsed));
      // An approval decided (or expired) is told to the subscribed coordinators before returning.
      await drainTurnEvents();
      // Never the task token: whoever holds it can resume the workflow.
      logger.info('Approval step', { step, tenantId, approvalId, actionId, outcome: result.outcome });
      return result;
    } catch (error) {
      logger.error('Approval step failed', { step, tenantId, approvalId, actionId, error: error as Error });
      throw asStepError(error);
    }
  };
}

// The composition is built on the first invocation, not at import: local mode imports this
// module before its environment is complete.
export const handler = approvalStepHandler(() => actionDeps());
