import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoConversationRepository } from '../adapters/dynamodb/conversation-repository';
import { DynamoCustomerRepository } from '../adapters/dynamodb/customer-repository';
import { DynamoExecutionRepository } from '../adapters/dynamodb/execution-repository';
import { DynamoLocationRepository } from '../adapters/dynamodb/location-repository';
import { DynamoMemoryRepository } from '../adapters/dynamodb/memory-repository';
import { DynamoRateLimitRepository } from '../adapters/dynamodb/rate-limit-repository';
import { FetchHttpGet } from '../adapters/http/fetch-http-get';
import { executionQueue } from '../adapters/queue/execution-queue';
import { memorySearch } from '../domain/memory/memories';
import { processQueuedExecution, type RuntimeDeps } from '../domain/runtime/agent-runtime';
import type { RateLimitDeps } from '../domain/runtime/rate-limits';
import { logger } from '../observability';
import { actionDeps } from './actions';
import { billingDeps } from './billing';
import { processEmbedder } from './embedders';
import { loadRuntimeConfig, loadTurnRateLimits } from './environment';
import { httpHandlerDeps } from './http';
import { getModelProvider } from './model-providers';
import { tableClient } from './table';
import { inTenantScope } from './tenant-scope';
import { turnEvents } from './turn-events';

/**
 * The runtime's dependencies, built once per process at module load, for the two entry points
 * that run turns: the runtime HTTP Lambda (chat, process, execute) and the execution queue's worker.
 */
export const runtimeConfig = loadRuntimeConfig();
export const runtimeClient = tableClient(runtimeConfig);
const agents = new DynamoAgentRepository(runtimeClient, runtimeConfig.TABLE_NAME);
const memories = new DynamoMemoryRepository(runtimeClient, runtimeConfig.TABLE_NAME);

export const runtimeDeps: RuntimeDeps = {
  agents,
  customers: new DynamoCustomerRepository(runtimeClient, runtimeConfig.TABLE_NAME),
  conversations: new DynamoConversationRepository(runtimeClient, runtimeConfig.TABLE_NAME),
  executions: new DynamoExecutionRepository(runtimeClient, runtimeConfig.TABLE_NAME),
  models: { get: getModelProvider },
  memory: memorySearch({
    agents,
    memories,
    get embedder() {
      return processEmbedder();
    },
  }),
  http: new FetchHttpGet(),
  queue: executionQueue(
    runtimeConfig,
    // In-process (local mode, tests) as the worker does on AWS: each message in its tenant's scope.
    (message) =>
      inTenantScope(message.tenantId, () =>
        processQueuedExecution(runtimeDeps, message.tenantId, message.executionId),
      ),
    (error) => logger.error('Queued execution failed', error as Error),
  ),
  billing: billingDeps(runtimeClient),
  actions: actionDeps(runtimeClient),
  now: () => new Date(),
  log: { error: (message, extra) => logger.error(message, extra) },
  events: turnEvents,
};

/**
 * A turn over HTTP must have stopped this long before its Lambda is cut off (at the HTTP API's
 * 30 s): time to record what it did, queue the rest and answer 202. Mutable for tests.
 */
export const turnDeadlines = { marginMs: 3_000 };

/** The deadline of a turn in a Lambda with `remainingMs` left; none outside a Lambda. */
export function turnDeadlineOf(remainingMs: number | undefined): number | undefined {
  return remainingMs === undefined ? undefined : Date.now() + remainingMs - turnDeadlines.marginMs;
}

/** Every turn is admitted here first, before anything is reserved, charged or run. */
export const turnAdmission: RateLimitDeps = {
  rateLimits: new DynamoRateLimitRepository(runtimeClient, runtimeConfig.TABLE_NAME),
  defaults: loadTurnRateLimits(),
  now: () => new Date(),
};

export const agentDeps = {
  agents,
  locations: new DynamoLocationRepository(runtimeClient, runtimeConfig.TABLE_NAME),
};

/** What the runtime HTTP Lambda's handler is given besides its routes. */
export const runtimeHttpDeps = httpHandlerDeps(runtimeClient, runtimeConfig);
