import { join } from 'node:path';
import type { ProvisioningDeps, ProvisioningWorkflowPort } from '../lambdas/domain/provisioning/ports';
import {
  PROVISION_DEFINITION,
  PROVISION_STEP_FUNCTION,
} from '../lambdas/handlers/workflow/provision-definition';
import { logger } from '../lambdas/observability';
import {
  createLocalStateMachine,
  type JsonValue,
  type LocalExecution,
  type LocalStateMachine,
  localFunctionArn,
  type TaskHandler,
} from './step-functions';

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

export interface LocalProvisioningExecution {
  readonly executionId: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: JsonValue;
  readonly error?: string;
}

export class LocalProvisioningWorkflow implements ProvisioningWorkflowPort {
  private machine: Promise<LocalStateMachine> | undefined;
  private readonly running = new Map<string, { execution: LocalExecution; done: Promise<void> }>();
  private readonly executions = new Map<string, LocalProvisioningExecution>();
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
    const executionId = `${LOCAL_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.provisioningId}`;
    if (this.executions.has(executionId)) return { executionId };
    this.executions.set(executionId, { executionId, status: 'RUNNING' });
    let machine: LocalStateMachine;
    try {
      machine = await this.stateMachine();
    } catch (error) {
      this.executions.delete(executionId);
      throw error;
    }
    this.started += 1;
    const execution = machine.run(
      { tenantId: input.tenantId, provisioningId: input.provisioningId },
      {
        executionId,
        ...(this.options.retryIntervalMs !== undefined
          ? { retryIntervalMs: this.options.retryIntervalMs }
          : {}),
      },
    );
    const done = execution.result
      .then(
        (output) => this.finish(executionId, { status: 'SUCCEEDED', output }),
        (error: unknown) => {
          const cause = (error as { cause?: unknown }).cause;
          const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(error);
          // A failed provisioning is an outcome (compensated, recorded), not a crash of local mode.
          logger.info('Local provisioning workflow ended failed', { executionId, error: detail });
          this.finish(executionId, { status: 'FAILED', error: detail });
        },
      )
      .then(() => execution.idle());
    this.running.set(executionId, { execution, done });
    void done.finally(() => this.running.delete(executionId));
    return { executionId };
  }

  private finish(executionId: string, ending: Omit<LocalProvisioningExecution, 'executionId'>): void {
    this.executions.set(executionId, { executionId, ...ending });
  }

  describe(executionId: string): LocalProvisioningExecution | undefined {
    return this.executions.get(executionId);
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  async stopAll(): Promise<void> {
    for (const { execution } of this.running.values()) execution.abort();
    await this.idle();
  }
}

let shared: LocalProvisioningWorkflow | undefined;

export function localProvisioningWorkflow(): LocalProvisioningWorkflow {
  shared ??= new LocalProvisioningWorkflow();
  return shared;
}
