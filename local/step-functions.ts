import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  type AslState,
  type AslStates,
  functionOf,
  historyEventsOf,
  isLambdaInvoke,
  loadDefinition,
  startsExecution,
  taskStates,
  waitsForTaskToken,
} from './asl-definition';

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
 * already running finish (`idle()` waits for them). Nested executions
 * (`states:startExecution[.sync[:2]]`) run in-process on a `LocalStepFunctions` service, which
 * also counts each execution's history events as the service would write them
 * (`historyEventsOf`). JSONata is not supported (nor used here).
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

export { type LocalExecutionRecord, LocalStepFunctions } from './local-step-functions';
export { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError };

import { type LocalStepFunctions, statesError } from './local-step-functions';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a Lambda runs: JSON in; whatever it returns is serialised as Lambda would. */
export type TaskHandler = (input: JsonValue) => unknown;

/** Step Functions' limit on a state's input or output (and so on a Lambda task's payload). */
export const MAX_PAYLOAD_BYTES = 262_144;

export interface LocalStateMachineOptions {
  /** The ASL file, e.g. `statemachines/monthly-billing.asl.json`. */
  readonly definitionFile: string;
  /** DefinitionSubstitutions, as the CDK construct passes them (names → ARNs). */
  readonly substitutions: Readonly<Record<string, string>>;
  /** The function behind each Task Resource (after substitution): Lambda ARN → handler. */
  readonly handlers: Readonly<Record<string, TaskHandler>>;
  /** The machine's ARN (`$$.StateMachine.Id`); a local one from the file's name by default. */
  readonly stateMachineArn?: string;
  /**
   * Where its executions are recorded, and where Tasks that start an execution
   * (`states:startExecution`, `.sync`, `.sync:2`) find the machine to run, in this process.
   */
  readonly service?: LocalStepFunctions;
}

export interface LocalRunOptions {
  /**
   * Replaces every Retry wait (the ASL's IntervalSeconds/BackoffRate/jitter) with this many
   * milliseconds; for tests. The ASL's own waits otherwise.
   */
  readonly retryIntervalMs?: number;
  /** `$$.Execution.Id`; a fresh local execution ARN by default. */
  readonly executionId?: string;
  /** Test-only: named Task states' TimeoutSeconds, in milliseconds (so a timeout takes 200 ms, not a day). */
  readonly timeoutOverridesMs?: Readonly<Record<string, number>>;
  /** Test-only: named `.waitForTaskToken` states' HeartbeatSeconds, in milliseconds. */
  readonly heartbeatOverridesMs?: Readonly<Record<string, number>>;
  /** The execution whose Task started this one (set by the local service). */
  readonly parentArn?: string;
}

export interface LocalExecution {
  /** The execution's output; rejects with ExecutionError, ExecutionTimeoutError or ExecutionAbortedError. */
  readonly result: Promise<JsonValue>;
  /** Stops the execution, as StopExecution does: no further state or task starts. */
  abort(): void;
  /** Resolves once no task handler of this execution, or of an execution it started, is running. */
  idle(): Promise<void>;
  /** RUNNING until the execution ends. */
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  /**
   * The number of events Step Functions would have written to this execution's history (see
   * `historyEventsOf`), once the execution has ended and its event log is closed.
   */
  readonly historyEvents: Promise<number>;
}

export interface LocalStateMachine {
  readonly definition: StateMachineDefinition;
  run(input: JsonValue, options?: LocalRunOptions): LocalExecution;
  /** SendTaskSuccess: the waiting Task ends with `output`. False when the token is not waited on. */
  resume(taskToken: string, output: JsonValue): boolean;
  /** SendTaskFailure: the waiting Task fails with `error` (its name, for Retry/Catch) and `cause`. */
  fail(taskToken: string, error: string, cause?: string): boolean;
  /** SendTaskHeartbeat: restarts the waiting Task's HeartbeatSeconds. */
  heartbeat(taskToken: string): boolean;
}

class LocalAbortError extends Error {
  override readonly name = 'States.Aborted';
}

/** One Task waiting on its token. */
interface Waiter {
  readonly resolve: (output: JsonValue) => void;
  readonly reject: (error: Error) => void;
  /** Restarts the HeartbeatSeconds clock, if the state has one. */
  readonly beat: () => void;
  /** Stops its timers and forgets the token. */
  readonly dispose: () => void;
}

/** Every token a state can use for its own: long, random, opaque, as the service's are. */
function newTaskToken(): string {
  return `local-task-token-${randomUUID()}-${randomUUID()}`;
}

/** Strings anywhere in a JSON value (where a payload may carry the token). */
function* stringsIn(value: JsonValue): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsIn(item);
  else if (value && typeof value === 'object')
    for (const item of Object.values(value)) yield* stringsIn(item);
}

/** The definition with named Tasks' TimeoutSeconds/HeartbeatSeconds replaced (in seconds, fractional). */
function withOverrides(
  definition: AslStates,
  timeouts: Readonly<Record<string, number>>,
  heartbeats: Readonly<Record<string, number>>,
): AslStates {
  const states: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    let next: AslState = state;
    if (timeouts[name] !== undefined) next = { ...next, TimeoutSeconds: timeouts[name] / 1000 };
    if (heartbeats[name] !== undefined) next = { ...next, HeartbeatSeconds: heartbeats[name] / 1000 };
    const processor = next.ItemProcessor ?? next.Iterator;
    if (processor) {
      const nested = withOverrides(processor, timeouts, heartbeats);
      next = next.ItemProcessor ? { ...next, ItemProcessor: nested } : { ...next, Iterator: nested };
    }
    if (next.Branches)
      next = { ...next, Branches: next.Branches.map((b) => withOverrides(b, timeouts, heartbeats)) };
    states[name] = next;
  }
  return { ...definition, States: states };
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
    if (startsExecution(state)) {
      if (!options.service) throw new Error(`Task state ${name} starts an execution: give a local service`);
      continue;
    }
    const fn = functionOf(state);
    if (!fn || !options.handlers[fn]) {
      throw new Error(
        `Task state ${name}: no local handler for its Resource ${fn ?? state.Resource ?? '(none)'}`,
      );
    }
  }
  const definition = asl as unknown as StateMachineDefinition;
  // Validates the definition (ASL schema, JSONPath, ARNs) once, as CreateStateMachine would.
  const machine = new StateMachine(definition);
  /** Tokens handed out and not yet used by a Task, and the Tasks waiting on theirs: one service-wide registry. */
  const issued = new Set<string>();
  const waiters = new Map<string, Waiter>();

  const stateMachineArn =
    options.stateMachineArn ??
    `arn:aws:states:us-east-1:000000000000:stateMachine:${options.definitionFile.replace(/^.*\/|\.asl\.json$/g, '')}`;

  function run(input: JsonValue, runOptions: LocalRunOptions = {}): LocalExecution {
    let aborted = false;
    const running = new Set<Promise<unknown>>();
    /** Executions this one's Tasks started: stopped with it. */
    const children = new Set<LocalExecution>();
    const executionArn =
      runOptions.executionId ?? `arn:aws:states:us-east-1:000000000000:execution:local:${randomUUID()}`;
    const ownTokens = new Set<string>();
    const timeouts = runOptions.timeoutOverridesMs ?? {};
    const heartbeats = runOptions.heartbeatOverridesMs ?? {};
    const overridden = Object.keys(timeouts).length > 0 || Object.keys(heartbeats).length > 0;
    const effective = overridden ? withOverrides(asl, timeouts, heartbeats) : asl;
    const effectiveTasks = overridden ? taskStates(effective) : tasks;

    /** The Lambda call, across Lambda's JSON boundary; `running` until it returns. */
    const invoke = (name: string, handler: TaskHandler, payload: JsonValue): Promise<JsonValue> => {
      const invocation = (async () => {
        if (aborted) throw new LocalAbortError(`${name} not started: the execution was stopped`);
        try {
          const output = await handler(acrossTheWire(payload, `${name} input`));
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

    /**
     * `.waitForTaskToken`: registers the waiter for the token in the payload (before invoking the
     * handler, which may resume at once), invokes the handler, then waits for resume/fail.
     * HeartbeatSeconds is enforced here; TimeoutSeconds by the library (this only forgets the
     * token once it has passed, so a late resume is refused as the service refuses it).
     */
    const waitForToken = async (
      name: string,
      state: AslState,
      handler: TaskHandler,
      taskInput: JsonValue,
    ) => {
      const token = [...stringsIn(taskInput)].find((candidate) => issued.has(candidate));
      if (!token) throw statesError('States.Runtime', `${name}: its Parameters do not pass $$.Task.Token`);
      issued.delete(token);
      ownTokens.add(token);
      let resolve!: (output: JsonValue) => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<JsonValue>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Rejections of a Task the library has given up on (timeout) must not go unhandled.
      promise.catch(() => undefined);
      let heartbeatTimer: NodeJS.Timeout | undefined;
      const heartbeatMs = state.HeartbeatSeconds !== undefined ? state.HeartbeatSeconds * 1000 : undefined;
      const beat = () => {
        if (heartbeatMs === undefined) return;
        clearTimeout(heartbeatTimer);
        heartbeatTimer = setTimeout(() => {
          waiters.get(token)?.dispose();
          reject(statesError('States.HeartbeatTimeout', `${name}: no heartbeat for ${heartbeatMs} ms`));
        }, heartbeatMs);
      };
      const timeoutMs = (state.TimeoutSeconds ?? 60) * 1000;
      // One millisecond after the library's own timer, which is what fails the Task.
      const timeoutTimer = setTimeout(() => {
        waiters.get(token)?.dispose();
        reject(statesError('States.Timeout', `${name}: timed out after ${timeoutMs} ms`));
      }, timeoutMs + 1);
      const dispose = () => {
        clearTimeout(heartbeatTimer);
        clearTimeout(timeoutTimer);
        waiters.delete(token);
        ownTokens.delete(token);
      };
      waiters.set(token, {
        resolve: (output) => {
          dispose();
          resolve(output);
        },
        reject: (error) => {
          dispose();
          reject(error);
        },
        beat,
        dispose,
      });
      beat();
      const payload = isLambdaInvoke(state)
        ? ((taskInput as { Payload?: JsonValue }).Payload ?? null)
        : taskInput;
      try {
        await invoke(name, handler, payload);
      } catch (error) {
        // The Lambda failed: the Task fails with its error, and nobody can use the token.
        waiters.get(token)?.dispose();
        throw error;
      }
      return promise;
    };

    /**
     * `states:startExecution[.sync[:2]]`: starts the named machine's execution on the local service;
     * `.sync` waits for it and ends with DescribeExecution's answer (Output as text, or as JSON
     * with `:2`), or fails with States.TaskFailed when it does not succeed.
     */
    const startExecution = async (
      name: string,
      state: AslState,
      taskInput: JsonValue,
    ): Promise<JsonValue> => {
      if (aborted) throw new LocalAbortError(`${name} not started: the execution was stopped`);
      const service = options.service as LocalStepFunctions;
      const request = acrossTheWire(taskInput, `${name} input`) as {
        StateMachineArn?: string;
        Name?: string;
        Input?: JsonValue;
      };
      const { StateMachineArn: target, Name: childName, Input: childInput = {} } = request;
      if (typeof target !== 'string') throw statesError('States.Runtime', `${name}: no StateMachineArn`);
      // Inherits the test-only run options (retry waits, shortened timeouts), not the execution id.
      const { executionId: _id, parentArn: _parent, ...inherited } = runOptions;
      const child = service.start(target, childInput, {
        ...(childName === undefined ? {} : { name: childName }),
        parentArn: executionArn,
        runOptions: inherited,
      });
      const startDate = new Date().toISOString();
      if (!state.Resource?.includes('.sync'))
        return { ExecutionArn: child.executionArn, StartDate: startDate };
      children.add(child.execution);
      let output: JsonValue;
      try {
        output = await child.execution.result;
      } catch (error) {
        if (aborted) throw new LocalAbortError(`${name}: the execution was stopped`);
        throw statesError(
          'States.TaskFailed',
          JSON.stringify({
            ExecutionArn: child.executionArn,
            Status: child.execution.status,
            Error: ((error as Error).cause as Error | undefined)?.name ?? (error as Error).name,
            Cause: ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message,
          }),
        );
      }
      return {
        ExecutionArn: child.executionArn,
        StateMachineArn: target,
        Name: child.name,
        Status: 'SUCCEEDED',
        StartDate: startDate,
        StopDate: new Date().toISOString(),
        Input: JSON.stringify(childInput),
        Output: state.Resource.endsWith(':2') ? output : JSON.stringify(output),
      };
    };

    const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [name, state] of effectiveTasks) {
      const handler = options.handlers[functionOf(state) as string] as TaskHandler;
      if (startsExecution(state)) {
        taskResourceLocalHandlers[name] = (taskInput) => startExecution(name, state, taskInput);
      } else if (waitsForTaskToken(state)) {
        taskResourceLocalHandlers[name] = (taskInput) => waitForToken(name, state, handler, taskInput);
      } else if (isLambdaInvoke(state)) {
        // The integration's result: the function's output is its Payload.
        taskResourceLocalHandlers[name] = async (taskInput) => ({
          ExecutedVersion: '$LATEST',
          Payload: await invoke(name, handler, (taskInput as { Payload?: JsonValue }).Payload ?? null),
          StatusCode: 200,
        });
      } else {
        taskResourceLocalHandlers[name] = (taskInput) => invoke(name, handler, taskInput);
      }
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
    // $$.Task.Token: a fresh token each time a state's Parameters read it (the library copies the
    // context shallowly, so this getter is what every state sees).
    const task = {};
    Object.defineProperty(task, 'Token', {
      enumerable: true,
      get: () => {
        const token = newTaskToken();
        issued.add(token);
        return token;
      },
    });
    const context: NonNullable<RunOptions['context']> = {
      Execution: { Id: executionArn, Name: executionArn.slice(executionArn.lastIndexOf(':') + 1) },
      StateMachine: {
        Id: stateMachineArn,
        Name: stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1),
      },
      Task: task,
    };
    // Overridden timings are fractions of a second, which the validator refuses; the definition
    // was validated above as written.
    const runner = overridden
      ? new StateMachine(effective as unknown as StateMachineDefinition, {
          validationOptions: { noValidate: true },
        })
      : machine;
    const execution = runner.run(input as Parameters<StateMachine['run']>[0], { overrides, context });
    const settle = () => {
      // Whatever ended the execution (success, failure, abort, its own timeout) ends its waits.
      for (const token of [...ownTokens]) {
        waiters.get(token)?.reject(new LocalAbortError('The execution ended'));
      }
    };
    execution.result.then(settle, settle);
    let status: LocalExecution['status'] = 'RUNNING';
    execution.result.then(
      () => {
        status = 'SUCCEEDED';
      },
      (error: unknown) => {
        status =
          error instanceof ExecutionAbortedError
            ? 'ABORTED'
            : error instanceof ExecutionTimeoutError
              ? 'TIMED_OUT'
              : 'FAILED';
      },
    );
    const historyEvents = (async () => {
      let events = 0;
      for await (const event of execution.eventLogs) events += historyEventsOf(event, effectiveTasks);
      return events;
    })();
    const local: LocalExecution = {
      result: execution.result as Promise<JsonValue>,
      abort: () => {
        aborted = true;
        execution.abort();
        for (const child of children) child.abort();
      },
      idle: async () => {
        while (running.size > 0) await Promise.allSettled([...running]);
        for (const child of children) await child.idle();
      },
      get status() {
        return status;
      },
      historyEvents,
    };
    options.service?.record({
      executionArn,
      stateMachineArn,
      name: executionArn.slice(executionArn.lastIndexOf(':') + 1),
      ...(runOptions.parentArn ? { parentArn: runOptions.parentArn } : {}),
      execution: local,
    });
    return local;
  }

  return {
    definition,
    run,
    resume(taskToken, output) {
      const waiter = waiters.get(taskToken);
      if (!waiter) return false;
      let value: JsonValue;
      try {
        // SendTaskSuccess takes JSON text: the output is serialised as the service would.
        value = acrossTheWire(output, 'SendTaskSuccess output');
      } catch (error) {
        waiter.reject(error as Error);
        return true;
      }
      waiter.resolve(value);
      return true;
    },
    fail(taskToken, error, cause = '') {
      const waiter = waiters.get(taskToken);
      if (!waiter) return false;
      waiter.reject(statesError(error, cause));
      return true;
    },
    heartbeat(taskToken) {
      const waiter = waiters.get(taskToken);
      if (!waiter) return false;
      waiter.beat();
      return true;
    },
  };
}

/** The Lambda ARN a step has in local mode (the CDK substitutes the deployed function's ARN). */
export function localFunctionArn(functionName: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`;
}
