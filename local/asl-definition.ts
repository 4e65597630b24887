import { readFileSync } from 'node:fs';
import type { StateMachine } from 'aws-local-stepfunctions';

/**
 * Reading the `statemachines/*.asl.json` files as the service does: the definition with its
 * DefinitionSubstitutions applied, its Task states, what each Task calls, and how many history
 * events an execution's log entry is worth on AWS (so local runs can prove history stays bounded).
 */

/** One event of the local runner's execution log (the library does not export the type). */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface AslStates {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}
export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly TimeoutSeconds?: number;
  readonly HeartbeatSeconds?: number;
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
      if (seen && (seen.Resource !== state.Resource || functionOf(seen) !== functionOf(state))) {
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

/** Step Functions' Lambda integration: the function is the `FunctionName` parameter, not the Resource. */
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const WAIT_FOR_TASK_TOKEN = '.waitForTaskToken';

/** Whether a Task hands out a task token and waits for SendTaskSuccess/Failure. */
export function waitsForTaskToken(state: AslState): boolean {
  return state.Resource?.endsWith(WAIT_FOR_TASK_TOKEN) ?? false;
}

export const isLambdaInvoke = (state: AslState) =>
  state.Resource === LAMBDA_INVOKE || state.Resource === `${LAMBDA_INVOKE}${WAIT_FOR_TASK_TOKEN}`;

/**
 * The Lambda a Task runs: its Resource (a function ARN) or, for the `lambda:invoke` integration,
 * its static `FunctionName` parameter. Undefined when there is neither (a dynamic
 * `FunctionName.$`, another service), which local mode cannot map.
 */
export function functionOf(state: AslState): string | undefined {
  if (!isLambdaInvoke(state)) return state.Resource;
  const name = state.Parameters?.FunctionName;
  return typeof name === 'string' ? name : undefined;
}

/** Step Functions' own integration: StartExecution, `.sync` (output as a string) or `.sync:2` (as JSON). */
const START_EXECUTION = 'arn:aws:states:::states:startExecution';

/** Whether a Task starts an execution of a state machine (a nested workflow). */
export function startsExecution(state: AslState): boolean {
  return state.Resource?.startsWith(START_EXECUTION) ?? false;
}

/** What a Task records in an execution's history per attempt, as Step Functions does. */
function eventsPerAttempt(state: AslState | undefined): number {
  if (!state) return 0;
  // TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded|TaskFailed.
  if (startsExecution(state) && state.Resource?.includes('.sync')) return 4;
  // LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionSucceeded|Failed|TimedOut (or the
  // integration's TaskScheduled, TaskStarted, TaskSucceeded|TaskFailed).
  return 3;
}

/**
 * How many events Step Functions would write to a Standard execution's history for one event of
 * the local runner's log: the runner logs state entries and exits, retries, Map iterations and the
 * execution's start and end; the service also records each Task attempt's scheduling, start and
 * end (three events; four for `.sync`, with TaskSubmitted), and a Map state's start and end.
 * Errors and catches add nothing of their own: the attempt's end is the failure.
 */
export function historyEventsOf(event: EventLog, tasks: ReadonlyMap<string, AslState>): number {
  switch (event.type) {
    case 'StateEntered':
      return (
        1 +
        (event.state.type === 'Map' ? 1 : 0) +
        (event.state.type === 'Task' ? eventsPerAttempt(tasks.get(event.state.name)) : 0)
      );
    case 'StateExited':
      return 1 + (event.state.type === 'Map' ? 1 : 0);
    case 'StateRetried':
      return event.state.type === 'Task' ? eventsPerAttempt(tasks.get(event.state.name)) : 0;
    case 'StateFailed':
    case 'StateCaught':
      return 0;
    default:
      // Execution started/succeeded/failed/aborted/timed out, Map iterations, Parallel branches.
      return 1;
  }
}
