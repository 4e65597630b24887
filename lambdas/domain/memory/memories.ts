import type { AgentRepository } from '../agents/ports';
import type { Agent } from '../agents/schemas';
import type { Embedder } from '../runtime/model';
import { ConflictError, NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import { effectiveImportance } from './decay';
import type { EmbeddingSpace, MemoryChanges, MemoryRepository } from './ports';
import type {
  Memory,
  MemoryCreateInput,
  MemoryListQuery,
  MemoryRecord,
  MemorySearchInput,
  MemoryUpdateInput,
  MemoryView,
  ScoredMemoryView,
} from './schemas';
import type { IndexHit, MemoryFilter } from './vector-index';

export interface MemoryDeps {
  readonly agents: Pick<AgentRepository, 'get'>;
  readonly memories: MemoryRepository;
  readonly embedder: Embedder;
  /** Injected so tests can move time (decay, retention, time filters). */
  readonly clock?: () => Date;
}

export interface ScoredMemory extends IndexHit {
  readonly memory: MemoryRecord;
}

const DAY_SECONDS = 86_400;
/** Figures shown to callers: six decimals say all there is to say, and reads a millisecond apart agree. */
const shown = (value: number) => Math.round(value * 1e6) / 1e6;
const nowOf = (deps: MemoryDeps) => deps.clock?.() ?? new Date();

export const embeddingSpace = (embedder: Embedder): EmbeddingSpace => ({
  model: `${embedder.name}/${embedder.dimensions}`,
  dimensions: embedder.dimensions,
});

async function embedOne(embedder: Embedder, text: string): Promise<Float32Array> {
  const [vector] = await embedder.embed([text]);
  if (!vector || vector.length !== embedder.dimensions) {
    throw new Error(`${embedder.name} returned no ${embedder.dimensions}-dimension vector`);
  }
  return vector;
}

/** A memory as the API shows it: no vector, times as ISO strings, importance as of now. */
export function toView(memory: MemoryRecord, now: Date): MemoryView {
  // A full Memory also carries its vector; neither it nor the model name is for callers.
  const {
    embedding: _e,
    embeddingModel: _m,
    expiresAt,
    ...rest
  } = memory as MemoryRecord & { embedding?: Float32Array };
  return {
    ...rest,
    tags: [...memory.tags],
    effectiveImportance: shown(
      effectiveImportance(
        {
          type: memory.type,
          importance: memory.importance,
          accessCount: memory.accessCount,
          createdAtMs: Date.parse(memory.createdAt),
          lastAccessedAtMs:
            memory.lastAccessedAt === undefined ? undefined : Date.parse(memory.lastAccessedAt),
        },
        now.getTime(),
      ),
    ),
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  };
}

/** The agent, if it exists and is not deleted: memories of a deleted agent are out of reach. */
async function liveAgent(deps: MemoryDeps, tenantId: string, agentId: string): Promise<Agent> {
  const agent = await deps.agents.get(tenantId, agentId);
  if (!agent) throw new NotFoundError('Agent', agentId);
  return agent;
}

/** Resolves a bare memory id within the caller's tenant, to its (live) agent and the memory. */
async function locate(deps: MemoryDeps, tenantId: string, memoryId: string) {
  const agentId = await deps.memories.agentOf(tenantId, memoryId);
  const agent = agentId === undefined ? undefined : await deps.agents.get(tenantId, agentId);
  const memory = agent ? await deps.memories.get(tenantId, agent.id, memoryId) : undefined;
  if (!agent || !memory) throw new NotFoundError('Memory', memoryId);
  return { agent, memory };
}

/**
 * Stores a memory for an agent the caller already holds (the runtime, after a turn). Retention
 * comes from the agent's `memory.retentionDays` and counts from now.
 */
export async function rememberMemory(
  deps: MemoryDeps,
  agent: Pick<Agent, 'id' | 'tenantId' | 'memory'>,
  input: MemoryCreateInput,
): Promise<Memory> {
  const now = nowOf(deps);
  const embedding = await embedOne(deps.embedder, input.content);
  const memory: Memory = {
    id: newId('memory'),
    tenantId: agent.tenantId,
    agentId: agent.id,
    type: input.type,
    content: input.content,
    importance: input.importance,
    accessCount: 0,
    ...(input.customerId === undefined ? {} : { customerId: input.customerId }),
    tags: input.tags,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    version: 1,
    expiresAt: Math.floor(now.getTime() / 1000) + agent.memory.retentionDays * DAY_SECONDS,
    embedding,
    embeddingModel: embeddingSpace(deps.embedder).model,
  };
  await deps.memories.create(memory);
  return memory;
}

export async function createMemory(
  deps: MemoryDeps,
  actor: Principal,
  agentId: string,
  input: MemoryCreateInput,
): Promise<MemoryView> {
  const agent = await liveAgent(deps, actor.tenantId, agentId);
  return toView(await rememberMemory(deps, agent, input), nowOf(deps));
}

export async function listMemories(
  deps: MemoryDeps,
  actor: Principal,
  agentId: string,
  query: MemoryListQuery,
): Promise<Page<MemoryView>> {
  await liveAgent(deps, actor.tenantId, agentId);
  const page = await deps.memories.list(actor.tenantId, agentId, query);
  const now = nowOf(deps);
  return { ...page, items: page.items.map((memory) => toView(memory, now)) };
}

export async function getMemory(deps: MemoryDeps, actor: Principal, memoryId: string): Promise<MemoryView> {
  const { memory } = await locate(deps, actor.tenantId, memoryId);
  return toView(memory, nowOf(deps));
}

/**
 * Changes the fields named. New content is embedded again, as is a memory embedded by another
 * embedder than the current one (an update is how old memories move to a new space). With
 * `expectedVersion` (If-Match) a stale writer gets 409 at once; without it, a concurrent writer
 * from the same read still loses with 409 at the conditional write.
 */
export async function updateMemory(
  deps: MemoryDeps,
  actor: Principal,
  memoryId: string,
  patch: MemoryUpdateInput,
  expectedVersion?: number,
): Promise<MemoryView> {
  const { agent, memory } = await locate(deps, actor.tenantId, memoryId);
  if (expectedVersion !== undefined && expectedVersion !== memory.version) {
    throw new ConflictError(
      `if-match: memory is at version ${memory.version}, not ${expectedVersion}; re-read it and retry`,
      { currentVersion: memory.version },
    );
  }
  const changes: { -readonly [K in keyof MemoryChanges]: MemoryChanges[K] } = {};
  if (patch.type !== undefined) changes.type = patch.type;
  if (patch.importance !== undefined) changes.importance = patch.importance;
  if (patch.tags !== undefined) changes.tags = patch.tags;
  const content = patch.content ?? memory.content;
  const space = embeddingSpace(deps.embedder);
  if (content !== memory.content || memory.embeddingModel !== space.model) {
    changes.content = content;
    changes.embedding = await embedOne(deps.embedder, content);
    changes.embeddingModel = space.model;
  }
  const now = nowOf(deps).toISOString();
  await deps.memories.update(actor.tenantId, agent.id, memoryId, changes, memory.version, now);
  return toView({ ...memory, ...changes, version: memory.version + 1, updatedAt: now }, nowOf(deps));
}

export async function deleteMemory(deps: MemoryDeps, actor: Principal, memoryId: string): Promise<void> {
  const { agent } = await locate(deps, actor.tenantId, memoryId);
  await deps.memories.delete(actor.tenantId, agent.id, memoryId);
}

export interface RetrievalRequest {
  readonly query: string;
  readonly k: number;
  readonly filter?: MemoryFilter;
}

/**
 * Top-k retrieval, for the API and the runtime alike: embeds the query (while the index is
 * checked or loaded), ranks the agent's memories in the index (see `MemoryIndex.search` for the
 * order), then records the recall of those returned, which also reads their current content. A
 * memory deleted between ranking and reading is left out. The similarity, effective importance
 * and score returned are those the ranking used; the memory fields are as stored after the recall.
 */
export async function retrieveMemories(
  deps: MemoryDeps,
  scope: { readonly tenantId: string; readonly agentId: string },
  request: RetrievalRequest,
): Promise<ScoredMemory[]> {
  const [query, index] = await Promise.all([
    embedOne(deps.embedder, request.query),
    deps.memories.vectorIndex(scope.tenantId, scope.agentId, embeddingSpace(deps.embedder)),
  ]);
  const now = nowOf(deps);
  const hits = index.search(query, {
    k: request.k,
    nowMs: now.getTime(),
    ...(request.filter ? { filter: request.filter } : {}),
  });
  if (hits.length === 0) return [];
  const recalled = await deps.memories.recordAccess(
    scope.tenantId,
    scope.agentId,
    hits.map((hit) => hit.id),
    now.toISOString(),
  );
  const byId = new Map(recalled.map((memory) => [memory.id, memory]));
  return hits.flatMap((hit) => {
    const memory = byId.get(hit.id);
    return memory ? [{ ...hit, memory }] : [];
  });
}

export async function searchMemories(
  deps: MemoryDeps,
  actor: Principal,
  agentId: string,
  input: MemorySearchInput,
): Promise<{ items: ScoredMemoryView[] }> {
  await liveAgent(deps, actor.tenantId, agentId);
  const filter: MemoryFilter = {
    ...(input.types ? { types: input.types } : {}),
    ...(input.customerId ? { customerId: input.customerId } : {}),
    ...(input.createdAfter ? { createdAfterMs: Date.parse(input.createdAfter) } : {}),
    ...(input.createdBefore ? { createdBeforeMs: Date.parse(input.createdBefore) } : {}),
    ...(input.minSimilarity === undefined ? {} : { minSimilarity: input.minSimilarity }),
  };
  const found = await retrieveMemories(
    deps,
    { tenantId: actor.tenantId, agentId },
    { query: input.query, k: input.k, filter },
  );
  const now = nowOf(deps);
  return {
    items: found.map(({ memory, similarity, effectiveImportance: effective, score }) => ({
      ...toView(memory, now),
      effectiveImportance: shown(effective),
      similarity: shown(similarity),
      score: shown(score),
    })),
  };
}

/**
 * Memory search as the runtime's tools and prompt assembly use it. With a customer, that
 * customer's memories and the agent's general ones (about no customer) are searched; without
 * one, only the general ones. One customer's memories never reach another's conversation.
 */
export function memorySearch(deps: MemoryDeps) {
  return {
    async search(
      tenantId: string,
      agentId: string,
      query: string,
      options: { k: number; customerId?: string; types?: MemoryFilter['types']; minSimilarity?: number },
    ): Promise<{ id: string; content: string; type: string; similarity: number; createdAt: string }[]> {
      const found = await retrieveMemories(
        deps,
        { tenantId, agentId },
        {
          query,
          k: options.k,
          filter: {
            ...(options.customerId
              ? { customerId: options.customerId, includeUnassigned: true }
              : { customerId: null }),
            ...(options.types ? { types: options.types } : {}),
            ...(options.minSimilarity === undefined ? {} : { minSimilarity: options.minSimilarity }),
          },
        },
      );
      return found.map(({ memory, similarity }) => ({
        id: memory.id,
        content: memory.content,
        type: memory.type,
        similarity,
        createdAt: memory.createdAt,
      }));
    },
  };
}
