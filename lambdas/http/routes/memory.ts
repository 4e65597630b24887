import * as z from 'zod/mini';
import {
  memoryCreateBody,
  memoryListQuery,
  memoryResponse,
  memorySearchBody,
  memorySearchResponse,
  memoryUpdateBody,
} from '../../domain/memory/schemas';
import { idSchema } from '../../domain/shared/ids';
import { lazySchema } from '../../domain/shared/zod';
import type { RouteGroup } from '../route-spec';
import { agentParams, pageOf } from './shared';

const memoryParams = lazySchema(() => z.strictObject({ id: idSchema('memory') }));

/**
 * Long-term memories of an agent. Reading and searching need `agents:read`, changing
 * `agents:write`. A bare memory id (`/v1/memories/{id}`) resolves within the caller's tenant only.
 */
export const MEMORY_ROUTES = {
  'GET /v1/agents/{id}/memories': {
    lambda: 'memory',
    permission: 'agents:read',
    summary: 'List an agent’s memories, newest first (filters: type, customerId, tag; cursor)',
    params: agentParams,
    query: memoryListQuery,
    status: 200,
    response: pageOf(memoryResponse),
  },
  'POST /v1/agents/{id}/memories': {
    lambda: 'memory',
    permission: 'agents:write',
    summary: 'Store a memory (embedded on write; kept for the agent’s memory.retentionDays)',
    params: agentParams,
    body: memoryCreateBody,
    status: 201,
    response: memoryResponse,
  },
  'POST /v1/agents/{id}/memories/search': {
    lambda: 'memory',
    permission: 'agents:read',
    summary:
      'Top-k memories by cosine similarity to a query, with filters (counts as a recall of those returned)',
    params: agentParams,
    body: memorySearchBody,
    status: 200,
    response: memorySearchResponse,
  },
  'GET /v1/memories/{id}': {
    lambda: 'memory',
    permission: 'agents:read',
    summary: 'Get a memory',
    params: memoryParams,
    status: 200,
    response: memoryResponse,
  },
  'PUT /v1/memories/{id}': {
    lambda: 'memory',
    permission: 'agents:write',
    summary:
      'Change a memory’s content, type, importance or tags (send If-Match: "<version>" to guard against stale writes)',
    params: memoryParams,
    body: memoryUpdateBody,
    status: 200,
    response: memoryResponse,
    ifMatch: true,
  },
  'DELETE /v1/memories/{id}': {
    lambda: 'memory',
    permission: 'agents:write',
    summary: 'Delete a memory',
    params: memoryParams,
    status: 204,
  },
} as const satisfies RouteGroup<'memory'>;
