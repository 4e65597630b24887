/**
 * The agent runtime's use cases, one module each: chat turns (chat.ts), tasks (task.ts), the
 * execution queue's worker (queued-executions.ts) and reading executions (execution-queries.ts),
 * over the ports in runtime-deps.ts. Callers import them from here.
 */
export {
  type ChatInput,
  type ChatResult,
  chat,
  type DeferredChat,
  isDeferredChat,
} from './chat';
export { DEFAULT_STEP_ALLOWANCES, type StepAllowances } from './chat-turn';
export { getExecution, listExecutions } from './execution-queries';
export { processQueuedExecution } from './queued-executions';
export type { RuntimeDeps } from './runtime-deps';
export { executeTask, type TaskInput } from './task';
export { TURN_DEADLINE_EXCEEDED } from './turn-records';
