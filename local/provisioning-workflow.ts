import { join } from 'node:path';
import type { ProvisioningDeps, ProvisioningWorkflowPort } from '../lambdas/domain/provisioning/ports';
import {
  PROVISION_DEFINITION,
  PROVISION_STEP_FUNCTION,
} from '../lambdas/handlers/workflow/provision-definition';
import { logger } from '../lambdas/observability';
import {
  createLocalStateMachine,
  type LocalStateMachine,
  localFunctionArn,
  type TaskHandler,
} from './step-functions';
import { failureDetail, type LocalExecutionState, LocalWorkflowExecutions } from './workflow-executions';

const REPO_ROOT = join(__dirname, '..');
const LOCAL_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:local-provision-agent';

/**
 * Local mode's provisioning workflow: statemachines/provision-agent.asl.json — the file the CDK
 * deploys — run in this process by aws-local-stepfunctions, every Task mapped to the provision step
 * Lambda's handler (over the process's composition, or the dependencies a test gives).
 */
export interface LocalProvisioningWorkflowOptions {
  readonly deps?: () => ProvisioningDeps;
  /** Test-only: every Retry waits this many milliseconds instead of the ASL's backoff. */
  readonly retryIntervalMs?: number;
  /** Test-only: sees (and may change) every invocation of the step Lambda. */
  readonly wrap?: (handler: TaskHandler) => TaskHandler;
}

export type LocalProvisioningExecution = LocalExecutionState;

export class LocalProvisioningWorkflow implements ProvisioningWorkflowPort {
  private machine: Promise<LocalStateMachine> | undefined;
  private readonly executions = new LocalWorkflowExecutions<LocalProvisioningExecution>({
    stateMachineArn: LOCAL_MACHINE_ARN,
    machine: () => this.stateMachine(),
    failed: (executionId, error) => {
      const detail = failureDetail(error);
      // A failed provisioning is an outcome (compensated, recorded), not a crash of local mode.
      logger.info('Local provisioning workflow ended failed', { executionId, error: detail });
      return { status: 'FAILED', error: detail };
    },
  });
  /** How many executions were started (a duplicate start starts none). */
  started = 0;

  constructor(private readonly options: LocalProvisioningWorkflowOptions = {}) {}

  private stateMachine(): Promise<LocalStateMachine> {
    this.machine ??= (async () => {
      const { provisionStepHandler, handler: composed } = await import(
        '../lambdas/handlers/workflow/provision-step'
      );
      const step = (this.options.deps ? provisionStepHandler(this.options.deps) : composed) as TaskHandler;
      const arn = localFunctionArn(`provisioning-${PROVISION_STEP_FUNCTION.name}`);
      return createLocalStateMachine({
        definitionFile: join(REPO_ROOT, PROVISION_DEFINITION),
        substitutions: { [PROVISION_STEP_FUNCTION.placeholder]: arn },
        handlers: { [arn]: this.options.wrap ? this.options.wrap(step) : step },
        stateMachineArn: LOCAL_MACHINE_ARN,
      });
    })();
    return this.machine;
  }

  async start(input: { readonly tenantId: string; readonly provisioningId: string }) {
    // As on AWS, the execution is named after the provisioning: a second start is the first one.
    const executionId = this.executions.executionId(input.provisioningId);
    const started = await this.executions.start(
      { executionId, status: 'RUNNING' },
      { tenantId: input.tenantId, provisioningId: input.provisioningId },
      this.options.retryIntervalMs !== undefined ? { retryIntervalMs: this.options.retryIntervalMs } : {},
    );
    if (started) this.started += 1;
    return { executionId };
  }

  describe(executionId: string): LocalProvisioningExecution | undefined {
    return this.executions.describe(executionId);
  }

  idle(): Promise<void> {
    return this.executions.idle();
  }

  stopAll(): Promise<void> {
    return this.executions.stopAll();
  }
}

let shared: LocalProvisioningWorkflow | undefined;

export function localProvisioningWorkflow(): LocalProvisioningWorkflow {
  shared ??= new LocalProvisioningWorkflow();
  return shared;
}
