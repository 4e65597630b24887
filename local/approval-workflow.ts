import { join } from 'node:path';
import type { ActionDeps } from '../lambdas/domain/actions/deps';
import type {
  ApprovalOutcome,
  ApprovalWorkflowInput,
  ApprovalWorkflowPort,
} from '../lambdas/domain/approvals/model';
import {
  APPROVAL_DEFINITION,
  APPROVAL_STEP_FUNCTION,
} from '../lambdas/handlers/workflow/approval-definition';
import { logger } from '../lambdas/observability';
import {
  createLocalStateMachine,
  type LocalStateMachine,
  localFunctionArn,
  type TaskHandler,
} from './step-functions';
import {
  failureDetail,
  failureStatus,
  type LocalExecutionState,
  LocalWorkflowExecutions,
} from './workflow-executions';

/**
 * Local mode's approval workflow: statemachines/approval.asl.json — the file the CDK deploys —
 * run in this process by aws-local-stepfunctions, every Task mapped to the approval step
 * Lambda's handler. `.waitForTaskToken` is emulated by local/step-functions.ts: the wait step
 * stores the token as on AWS, and `resume` (what the approve/reject API calls) hands the decision
 * to the waiting execution.
 */
export interface LocalApprovalWorkflowOptions {
  /**
   * The dependencies the step handler runs with; this workflow becomes their `workflow`, so a
   * step that resumes (the wait step, when the approval was decided before it) resumes this one.
   * Default: the process's composition (`actionDeps()`), whose workflow is `localApprovalWorkflow()`.
   */
  readonly deps?: () => ActionDeps;
  /** Test-only: named states' TimeoutSeconds in milliseconds, e.g. `{ WaitForDecision: 200 }`. */
  readonly timeoutOverridesMs?: Readonly<Record<string, number>>;
  /** Test-only: named states' HeartbeatSeconds in milliseconds (the wait's check-in). */
  readonly heartbeatOverridesMs?: Readonly<Record<string, number>>;
  /** Test-only: every Retry waits this many milliseconds instead of the ASL's backoff. */
  readonly retryIntervalMs?: number;
  /** Wraps the step handler (fault injection, observation). */
  readonly wrap?: (handler: TaskHandler) => TaskHandler;
}

/** How a finished local execution ended, for tests and the log. */
export interface LocalApprovalExecution extends LocalExecutionState {
  readonly input: ApprovalWorkflowInput;
}

const REPO_ROOT = join(__dirname, '..');
const LOCAL_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:local-approval';

export class LocalApprovalWorkflow implements ApprovalWorkflowPort {
  private machine: Promise<LocalStateMachine> | undefined;
  private readonly executions = new LocalWorkflowExecutions<LocalApprovalExecution>({
    stateMachineArn: LOCAL_MACHINE_ARN,
    machine: () => this.stateMachine(),
    failed: (executionId, error) => {
      const status = failureStatus(error);
      const detail = failureDetail(error);
      const { input } = this.executions.describe(executionId) ?? {};
      // Never an unhandled rejection: the failure is the execution's, and the log says so.
      logger.error('Local approval workflow failed', { executionId, ...input, status, error: detail });
      return { status, error: detail };
    },
  });

  constructor(private readonly options: LocalApprovalWorkflowOptions = {}) {}

  /** Built on the first start: the step handler imports the composition, which reads the environment. */
  private stateMachine(): Promise<LocalStateMachine> {
    this.machine ??= (async () => {
      const { approvalStepHandler, handler: composed } = await import(
        '../lambdas/handlers/workflow/approval-step'
      );
      const deps = this.options.deps;
      const step: TaskHandler = deps
        ? (approvalStepHandler(() => ({ ...deps(), workflow: this })) as TaskHandler)
        : (composed as TaskHandler);
      const arn = localFunctionArn(`approval-${APPROVAL_STEP_FUNCTION.name}`);
      return createLocalStateMachine({
        definitionFile: join(REPO_ROOT, APPROVAL_DEFINITION),
        substitutions: { [APPROVAL_STEP_FUNCTION.placeholder]: arn },
        handlers: { [arn]: this.options.wrap ? this.options.wrap(step) : step },
      });
    })();
    return this.machine;
  }

  /** Returns at once with the execution's id; the execution runs in the background. */
  async start(input: ApprovalWorkflowInput): Promise<{ readonly executionId: string }> {
    // As on AWS, the execution is named after the approval: a second start is the first one.
    const executionId = this.executions.executionId(input.approvalId);
    await this.executions.start(
      { executionId, input, status: 'RUNNING' },
      { tenantId: input.tenantId, approvalId: input.approvalId, actionId: input.actionId },
      {
        ...(this.options.timeoutOverridesMs ? { timeoutOverridesMs: this.options.timeoutOverridesMs } : {}),
        ...(this.options.heartbeatOverridesMs
          ? { heartbeatOverridesMs: this.options.heartbeatOverridesMs }
          : {}),
        ...(this.options.retryIntervalMs !== undefined
          ? { retryIntervalMs: this.options.retryIntervalMs }
          : {}),
      },
    );
    return { executionId };
  }

  async resume(taskToken: string, outcome: ApprovalOutcome): Promise<boolean> {
    if (!this.machine) return false;
    return (await this.machine).resume(taskToken, { outcome: outcome.outcome });
  }

  async heartbeat(taskToken: string): Promise<boolean> {
    if (!this.machine) return false;
    return (await this.machine).heartbeat(taskToken);
  }

  /** How an execution stands (RUNNING until it ends); undefined for one this workflow never started. */
  describe(executionId: string): LocalApprovalExecution | undefined {
    return this.executions.describe(executionId);
  }

  /** Resolves when no execution is running (each one's handlers finished too). */
  idle(): Promise<void> {
    return this.executions.idle();
  }

  /** Stops every running execution (as StopExecution), e.g. when local mode shuts down. */
  stopAll(): Promise<void> {
    return this.executions.stopAll();
  }
}

let shared: LocalApprovalWorkflow | undefined;

/** The process's local approval workflow (the composition's `workflow` in local mode). */
export function localApprovalWorkflow(): LocalApprovalWorkflow {
  shared ??= new LocalApprovalWorkflow();
  return shared;
}
