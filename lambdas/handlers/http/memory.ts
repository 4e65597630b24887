import { DynamoAgentRepository } from '../../adapters/dynamodb/agent-repository';
import { DynamoAuditLog } from '../../adapters/dynamodb/audit-repository';
import { DynamoMemoryRepository } from '../../adapters/dynamodb/memory-repository';
import { DynamoUserRepository } from '../../adapters/dynamodb/user-repository';
import { loadEmbedderConfig, processEmbedder } from '../../composition/embedders';
import { loadRuntimeConfig } from '../../composition/environment';
import { tableClient } from '../../composition/table';
import {
  createMemory,
  deleteMemory,
  getMemory,
  listMemories,
  searchMemories,
  updateMemory,
} from '../../domain/memory/memories';
import { createHttpHandler, etag } from '../../http/http-handler';
import { MEMORY_ROUTES } from '../../http/routes/memory';

const config = loadRuntimeConfig();
// Checked now, so a bad variable fails the cold start; the client is made on first use (list,
// get and delete never embed).
loadEmbedderConfig();
const client = tableClient(config);
const deps = {
  agents: new DynamoAgentRepository(client, config.TABLE_NAME),
  // Vectors stay cached in this process between invocations (see VectorCache).
  memories: new DynamoMemoryRepository(client, config.TABLE_NAME),
  get embedder() {
    return processEmbedder();
  },
};

const withEtag = <T extends { version: number }>(memory: T) => ({ body: memory, headers: etag(memory) });

export const handler = createHttpHandler(
  MEMORY_ROUTES,
  {
    'GET /v1/agents/{id}/memories': async ({ principal, params, query }) => ({
      body: await listMemories(deps, principal, params.id, query),
    }),
    'POST /v1/agents/{id}/memories': async ({ principal, params, body }) =>
      withEtag(await createMemory(deps, principal, params.id, body)),
    'POST /v1/agents/{id}/memories/search': async ({ principal, params, body }) => ({
      body: await searchMemories(deps, principal, params.id, body),
    }),
    'GET /v1/memories/{id}': async ({ principal, params }) =>
      withEtag(await getMemory(deps, principal, params.id)),
    'PUT /v1/memories/{id}': async ({ principal, params, body, expectedVersion }) =>
      withEtag(await updateMemory(deps, principal, params.id, body, expectedVersion)),
    'DELETE /v1/memories/{id}': async ({ principal, params }) => {
      await deleteMemory(deps, principal, params.id);
      return {};
    },
  },
  {
    maxBodyBytes: config.MAX_BODY_BYTES,
    users: new DynamoUserRepository(client, config.TABLE_NAME),
    audit: new DynamoAuditLog(client, config.TABLE_NAME),
  },
);
