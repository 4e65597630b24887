import type { Page } from '../shared/pagination';
import type { Memory, MemoryListQuery, MemoryRecord } from './schemas';
import type { MemoryIndex } from './vector-index';

/** Which vectors an index holds: those of one embedder at one dimension. */
export interface EmbeddingSpace {
  /** `<embedder name>/<dimensions>`, as stored on each memory. */
  readonly model: string;
  readonly dimensions: number;
}

/** The fields an update may change; `version` and `updatedAt` are the repository's. */
export type MemoryChanges = Partial<
  Pick<Memory, 'type' | 'content' | 'importance' | 'tags' | 'embedding' | 'embeddingModel'>
>;

/**
 * Long-term memories of one agent. Every method is scoped by tenant and agent; nothing reads
 * across agents. Every create, update and delete also moves the agent's memory generation, the
 * counter `vectorIndex` uses to know whether a cached index is still current.
 */
export interface MemoryRepository {
  /** Stores a new memory (and its tenant-scoped id lookup). */
  create(memory: Memory): Promise<void>;
  /** Undefined for unknown and expired memories. */
  get(tenantId: string, agentId: string, memoryId: string): Promise<Memory | undefined>;
  /** The agent a memory id belongs to, looked up within `tenantId` only. */
  agentOf(tenantId: string, memoryId: string): Promise<string | undefined>;
  /** Newest first; expired memories left out. */
  list(tenantId: string, agentId: string, query: MemoryListQuery): Promise<Page<MemoryRecord>>;
  /**
   * Applies `changes` only if the stored version is still `expectedVersion` (ConflictError
   * otherwise; NotFoundError if it is gone). Recall counters are left alone: searches may be
   * adding to them at the same moment.
   */
  update(
    tenantId: string,
    agentId: string,
    memoryId: string,
    changes: MemoryChanges,
    expectedVersion: number,
    now: string,
  ): Promise<void>;
  /** NotFoundError if there is no such memory. */
  delete(tenantId: string, agentId: string, memoryId: string): Promise<void>;
  /**
   * The agent's live memories in `space` as a searchable index, current as of this call. A
   * warm process answers from its cache after one read of the generation counter.
   */
  vectorIndex(tenantId: string, agentId: string, space: EmbeddingSpace): Promise<MemoryIndex>;
  /**
   * Counts a recall of each memory (atomic ADD to `accessCount`, `lastAccessedAt = now`) and
   * returns them as stored after, in no particular order; memories deleted meanwhile are left out.
   */
  recordAccess(
    tenantId: string,
    agentId: string,
    memoryIds: readonly string[],
    now: string,
  ): Promise<MemoryRecord[]>;
}
