import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_STEPS,
  type MonthlyBillingStep,
} from '../lambdas/handlers/workflow/monthly-billing-definition';

/**
 * Local mode's Step Functions: runs a state machine from its `statemachines/*.asl.json` file — the
 * file the CDK deploys — with `aws-local-stepfunctions`, each Task's Resource (a Lambda ARN once
 * the DefinitionSubstitutions are applied) mapped to the handler function that Lambda runs.
 *
 * What it reproduces of the service: JSONPath processing, Choice, Map (with MaxConcurrency),
 * Retry and Catch, TimeoutSeconds on Tasks and on the machine, intrinsic functions and the context
 * object; Lambda's JSON boundary (inputs and outputs are serialised, undefined dropped, 256 KB
 * limit) and its error shape (Error = the error's name, Cause = `{errorType, errorMessage, trace}`).
 * Like a stopped execution on AWS, an aborted one starts no further task, but lets the handlers
 * already running finish (`idle()` waits for them). JSONata is not supported (nor used here).
 */

// aws-local-stepfunctions 3 targets Node 22 and calls Promise.withResolvers (Node 22+) for every
// Task's timeout; Node 20, which this project supports, lacks it.
installPromiseWithResolvers();

function installPromiseWithResolvers(): void {
  const promise = Promise as PromiseConstructor & { withResolvers?: unknown };
  if (typeof promise.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const created = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise: created, resolve, reject };
    },
  });
}

export { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError };

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a Lambda runs: JSON in; whatever it returns is serialised as Lambda would. */
export type TaskHandler = (input: JsonValue) => unknown;

/** Step Functions' limit on a state's input or output (and so on a Lambda task's payload). */
export const MAX_PAYLOAD_BYTES = 262_144;

const REPO_ROOT = join(__dirname, '..');

interface AslStates {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}
interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Retry?: readonly unknown[];
  readonly ItemProcessor?: AslStates;
  readonly Iterator?: AslStates;
  readonly Branches?: readonly AslStates[];
}

/**
 * Reads an ASL file and applies DefinitionSubstitutions as CloudFormation does (`${Name}`
 * replaced by its value, anywhere in the text). A placeholder without a value is an error here,
 * where CloudFormation would fail the deploy.
 */
export function loadDefinition(file: string, substitutions: Readonly<Record<string, string>>): AslStates {
  const text = readFileSync(file, 'utf8').replace(/\$\{([A-Za-z0-9_]+)\}/g, (placeholder, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`${file}: no substitution for ${placeholder}`);
    // Inside a JSON string: escaped as JSON would escape it.
    return JSON.stringify(value).slice(1, -1);
  });
  return JSON.parse(text) as AslStates;
}

/** Every Task state of a definition, nested Map and Parallel states included, by name. */
export function taskStates(definition: AslStates, into = new Map<string, AslState>()): Map<string, AslState> {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') {
      const seen = into.get(name);
      // aws-local-stepfunctions overrides Tasks by state name, nested machines included.
      if (seen && seen.Resource !== state.Resource) {
        throw new Error(`Two Task states are named ${name}; local execution needs unique Task names`);
      }
      into.set(name, state);
    }
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) taskStates(processor, into);
    for (const branch of state.Branches ?? []) taskStates(branch, into);
  }
  return into;
}

export interface LocalStateMachineOptions {
  /** The ASL file, e.g. `statemachines/monthly-billing.asl.json`. */
  readonly definitionFile: string;
  /** DefinitionSubstitutions, as the CDK construct passes them (names → ARNs). */
  readonly substitutions: Readonly<Record<string, string>>;
  /** The function behind each Task Resource (after substitution): Lambda ARN → handler. */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
}

export interface LocalRunOptions {
  /**
   * Replaces every Retry wait (the ASL's IntervalSeconds/BackoffRate/jitter) with this many
   * milliseconds; for tests. The ASL's own waits otherwise.
   */
  readonly retryIntervalMs?: number;
}

export interface LocalExecution {
  /** The execution's output; rejects with ExecutionError, ExecutionTimeoutError or ExecutionAbortedError. */
  readonly result: Promise<JsonValue>;
  /** Stops the execution, as StopExecution does: no further state or task starts. */
  abort(): void;
  /** Resolves once no task handler of this execution is running. */
  idle(): Promise<void>;
}

export interface LocalStateMachine {
  readonly definition: StateMachineDefinition;
  run(input: JsonValue, options?: LocalRunOptions): LocalExecution;
}

class LocalAbortError extends Error {
  override readonly name = 'States.Aborted';
}

/** Serialises like Lambda's JSON boundary and enforces Step Functions' payload limit. */
function acrossTheWire(value: unknown, what: string): JsonValue {
  const text = JSON.stringify(value) ?? 'null';
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    const error = new Error(
      `${what} is ${Buffer.byteLength(text)} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit`,
    );
    error.name = 'States.DataLimitExceeded';
    throw error;
  }
  return JSON.parse(text) as JsonValue;
}

/** The error as Step Functions sees a Lambda's: named by its type, the Lambda error document as Cause. */
function asLambdaError(error: unknown): Error {
  if (error instanceof LocalAbortError) return error;
  const original = error instanceof Error ? error : new Error(String(error));
  const errorType = original.name || 'Error';
  const lambdaError = new Error(
    JSON.stringify({
      errorType,
      errorMessage: original.message,
      trace: (original.stack ?? '').split('\n'),
    }),
  );
  lambdaError.name = errorType;
  return lambdaError;
}

export function createLocalStateMachine(options: LocalStateMachineOptions): LocalStateMachine {
  const asl = loadDefinition(options.definitionFile, options.substitutions);
  const tasks = taskStates(asl);
  for (const [name, state] of tasks) {
    if (!state.Resource || !options.handlers[state.Resource]) {
      throw new Error(`Task state ${name}: no local handler for its Resource ${state.Resource ?? '(none)'}`);
    }
  }
  const definition = asl as unknown as StateMachineDefinition;
  // Validates the definition (ASL schema, JSONPath, ARNs) once, as CreateStateMachine would.
  const machine = new StateMachine(definition);

  return {
    definition,
    run(input, runOptions = {}) {
      let aborted = false;
      const running = new Set<Promise<unknown>>();
      const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
      const retryIntervalOverrides: Record<string, number> = {};
      for (const [name, state] of tasks) {
        const handler = options.handlers[state.Resource as string] as TaskHandler;
        taskResourceLocalHandlers[name] = (taskInput) => {
          const invocation = (async () => {
            if (aborted) throw new LocalAbortError(`${name} not started: the execution was stopped`);
            try {
              const output = await handler(acrossTheWire(taskInput, `${name} input`));
              return acrossTheWire(output, `${name} output`);
            } catch (error) {
              throw asLambdaError(error);
            }
          })();
          running.add(invocation);
          const forget = () => running.delete(invocation);
          invocation.then(forget, forget);
          return invocation;
        };
        if (state.Retry && runOptions.retryIntervalMs !== undefined) {
          retryIntervalOverrides[name] = runOptions.retryIntervalMs;
        }
      }
      const overrides: NonNullable<RunOptions['overrides']> = {
        taskResourceLocalHandlers: taskResourceLocalHandlers as NonNullable<
          RunOptions['overrides']
        >['taskResourceLocalHandlers'],
        retryIntervalOverrides,
      };
      const execution = machine.run(input as Parameters<StateMachine['run']>[0], { overrides });
      return {
        result: execution.result as Promise<JsonValue>,
        abort: () => {
          aborted = true;
          execution.abort();
        },
        idle: async () => {
          while (running.size > 0) await Promise.allSettled([...running]);
        },
      };
    },
  };
}

/** The Lambda ARN a step has in local mode (the CDK substitutes the deployed function's ARN). */
export function localFunctionArn(functionName: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`;
}

export interface MonthlyBillingMachineOptions {
  /**
   * Wraps a step's handler (fault injection, observation). The step handlers are imported on the
   * first call, so the table and the billing configuration must be in the environment by then.
   */
  readonly wrap?: (step: MonthlyBillingStep, handler: TaskHandler) => TaskHandler;
}

/**
 * statemachines/monthly-billing.asl.json with the three step Lambdas' handlers, in this process.
 * The handlers read their configuration (TABLE_NAME, DYNAMODB_ENDPOINT, ...) when first imported.
 */
export async function monthlyBillingMachine(
  options: MonthlyBillingMachineOptions = {},
): Promise<LocalStateMachine> {
  const imported: Record<MonthlyBillingStep, TaskHandler> = {
    'list-tenants': (await import('../lambdas/handlers/workflow/list-tenants')).handler,
    'charge-monthly-fee': (await import('../lambdas/handlers/workflow/charge-monthly-fee')).handler,
    'suspend-tenant': (await import('../lambdas/handlers/workflow/suspend-tenant')).handler,
  };
  const substitutions: Record<string, string> = {};
  const handlers: Record<string, TaskHandler> = {};
  for (const [placeholder, step] of Object.entries(MONTHLY_BILLING_STEPS)) {
    const arn = localFunctionArn(`monthly-billing-${step.name}`);
    substitutions[placeholder] = arn;
    handlers[arn] = options.wrap ? options.wrap(step.name, imported[step.name]) : imported[step.name];
  }
  return createLocalStateMachine({
    definitionFile: join(REPO_ROOT, MONTHLY_BILLING_DEFINITION),
    substitutions,
    handlers,
  });
}
