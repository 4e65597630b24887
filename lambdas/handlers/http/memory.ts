import { memoryDeps, memoryHttpDeps } from '../../composition/memory';
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

const deps = memoryDeps;

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
  memoryHttpDeps,
);
