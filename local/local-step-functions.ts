import { randomUUID } from 'node:crypto';
import type { JsonValue, LocalExecution, LocalRunOptions, LocalStateMachine } from './step-functions';

/** A Step Functions error by name (States.Timeout, States.HeartbeatTimeout, SendTaskFailure's). */
export function statesError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** One execution as the local service keeps it. */
export interface LocalExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** The execution that started it, for a nested one. */
  readonly parentArn?: string;
  readonly execution: LocalExecution;
}

/**
 * A local Step Functions service: the machines by ARN, and every execution they ran, by name. A
 * Task that starts an execution (`arn:aws:states:::states:startExecution[.sync[:2]]`) runs the
 * named machine here, in-process, as the service would: a name already used for that machine
 * joins the running execution when the input is the same (StartExecution is idempotent for
 * Standard machines), and is refused with `StepFunctions.ExecutionAlreadyExistsException`
 * otherwise; stopping the parent stops the executions its `.sync` Tasks wait for.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly byName = new Map<
    string,
    { readonly input: string; readonly record: LocalExecutionRecord }
  >();
  /** Every execution, in the order they started. */
  readonly executions: LocalExecutionRecord[] = [];

  register(stateMachineArn: string, machine: LocalStateMachine): void {
    this.machines.set(stateMachineArn, machine);
  }

  /** StartExecution. */
  start(
    stateMachineArn: string,
    input: JsonValue,
    options: {
      readonly name?: string;
      readonly parentArn?: string;
      readonly runOptions?: LocalRunOptions;
    } = {},
  ): LocalExecutionRecord {
    const machine = this.machines.get(stateMachineArn);
    if (!machine) {
      throw statesError(
        'StepFunctions.StateMachineDoesNotExistException',
        `No state machine ${stateMachineArn}`,
      );
    }
    const name = options.name ?? randomUUID();
    if (!/^[0-9A-Za-z_-]{1,80}$/.test(name)) {
      throw statesError('StepFunctions.InvalidNameException', `Invalid execution name ${name}`);
    }
    const key = `${stateMachineArn}\n${name}`;
    const text = JSON.stringify(input);
    const existing = this.byName.get(key);
    if (existing) {
      if (existing.input === text && existing.record.execution.status === 'RUNNING') return existing.record;
      throw statesError(
        'StepFunctions.ExecutionAlreadyExistsException',
        `Execution already exists: ${existing.record.executionArn}`,
      );
    }
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const execution = machine.run(input, {
      ...options.runOptions,
      executionId: executionArn,
      parentArn: options.parentArn,
    });
    // run() records it (every run of a machine given this service is recorded there).
    const record = this.executions.find((r) => r.execution === execution) as LocalExecutionRecord;
    this.byName.set(key, { input: text, record });
    return record;
  }

  /** @internal: run() records each execution of a machine given this service. */
  record(record: LocalExecutionRecord): void {
    this.executions.push(record);
  }
}
