import type { JsonValue, LocalExecution, LocalRunOptions, LocalStateMachine } from './step-functions';

export type LocalExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** How an execution stands: RUNNING until it ends, then its output or its error. */
export interface LocalExecutionState {
  readonly executionId: string;
  readonly status: LocalExecutionStatus;
  readonly output?: JsonValue;
  readonly error?: string;
}

/** How a failed execution is recorded. */
export type LocalExecutionFailure = { readonly status: LocalExecutionStatus; readonly error: string };

/** The failure's cause as `Name: message` (the Task's error), else the error itself. */
export function failureDetail(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(error);
}

/** TIMED_OUT or ABORTED when the execution was timed out or stopped, FAILED otherwise. */
export function failureStatus(error: unknown): LocalExecutionStatus {
  const name = error instanceof Error ? error.name : 'Error';
  return name === 'ExecutionTimeoutError'
    ? 'TIMED_OUT'
    : name === 'ExecutionAbortedError'
      ? 'ABORTED'
      : 'FAILED';
}

/**
 * The executions local mode's workflows (approval, provisioning) start on their state machine: named
 * after what they run for, as on AWS (a second start of a name is the first one), run in the
 * background, their outcome kept for describe(); idle() and stopAll() for tests and shutdown.
 */
export class LocalWorkflowExecutions<State extends LocalExecutionState> {
  private readonly running = new Map<string, { execution: LocalExecution; done: Promise<void> }>();
  private readonly states = new Map<string, State>();

  constructor(
    private readonly options: {
      readonly stateMachineArn: string;
      /** The state machine, built on the first start. */
      readonly machine: () => Promise<LocalStateMachine>;
      /** Records (and logs) a failed execution; never an unhandled rejection. */
      readonly failed: (executionId: string, error: unknown) => LocalExecutionFailure;
    },
  ) {}

  executionId(name: string): string {
    return `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /**
   * Starts the execution `running` names (its RUNNING state) unless one by that id was started;
   * returns at once with whether it started one.
   */
  async start(
    running: State,
    input: JsonValue,
    options: Omit<LocalRunOptions, 'executionId'>,
  ): Promise<boolean> {
    const { executionId } = running;
    if (this.states.has(executionId)) return false;
    this.states.set(executionId, running);
    let machine: LocalStateMachine;
    try {
      machine = await this.options.machine();
    } catch (error) {
      this.states.delete(executionId);
      throw error;
    }
    const execution = machine.run(input, { ...options, executionId });
    const done = execution.result
      .then(
        (output) => this.finish(executionId, { status: 'SUCCEEDED', output }),
        (error: unknown) => this.finish(executionId, this.options.failed(executionId, error)),
      )
      // The handlers of a stopped execution may still be running; idle() waits for them too.
      .then(() => execution.idle());
    this.running.set(executionId, { execution, done });
    void done.finally(() => this.running.delete(executionId));
    return true;
  }

  private finish(executionId: string, ending: Omit<LocalExecutionState, 'executionId'>): void {
    const started = this.states.get(executionId);
    if (started) this.states.set(executionId, { ...started, ...ending });
  }

  /** How an execution stands (RUNNING until it ends); undefined for one never started. */
  describe(executionId: string): State | undefined {
    return this.states.get(executionId);
  }

  /** Resolves when no execution is running (each one's handlers finished too). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  /** Stops every running execution (as StopExecution), e.g. when local mode shuts down. */
  async stopAll(): Promise<void> {
    for (const { execution } of this.running.values()) execution.abort();
    await this.idle();
  }
}
