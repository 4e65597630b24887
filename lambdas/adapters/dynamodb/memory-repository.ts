import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EmbeddingSpace, MemoryChanges, MemoryRepository } from '../../domain/memory/ports';
import type { Memory, MemoryListQuery, MemoryRecord, MemoryType } from '../../domain/memory/schemas';
import { type IndexedMemory, MemoryIndex } from '../../domain/memory/vector-index';
import { decodeVector, encodeVector } from '../../domain/memory/vectors';
import { ConflictError, NotFoundError } from '../../domain/shared/errors';
import type { Page } from '../../domain/shared/pagination';
import { isConditionFailure, transactionItemAtFailure } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { versionedUpdate } from './update-expression';

/**
 * Long-term memories (see README.md, "Items" and "Access patterns").
 *   memory      pk = T#<tenantId>#AGENT#<agentId>#MEM  sk = MEM#<memoryId>  (ULID: creation order)
 *   generation  pk = T#<tenantId>#AGENT#<agentId>#MEM  sk = GEN   `generation` ADDed by every write
 *   id lookup   pk = T#<tenantId>#MEMREF#<memoryId>    sk = MEMREF  → agentId
 * The memory partition holds nothing else, so loading an agent's vectors reads only memories.
 * The id lookup has a partition per memory (no hot key for a busy tenant) under the tenant's
 * prefix, so a bare memory id resolves within the caller's tenant and nowhere else. Memory and
 * lookup carry the same `expiresAt` (TTL); reads treat an expired memory as gone before TTL
 * gets to it.
 */
const memoryPartition = (tenantId: string, agentId: string) => `T#${tenantId}#AGENT#${agentId}#MEM`;
export const memoryKey = (tenantId: string, agentId: string, memoryId: string) => ({
  pk: memoryPartition(tenantId, agentId),
  sk: `MEM#${memoryId}`,
});
export const memoryGenerationKey = (tenantId: string, agentId: string) => ({
  pk: memoryPartition(tenantId, agentId),
  sk: 'GEN',
});
export const memoryRefKey = (tenantId: string, memoryId: string) => ({
  pk: `T#${tenantId}#MEMREF#${memoryId}`,
  sk: 'MEMREF',
});

/** The attributes an index needs: everything but the content, which only the k results need. */
const INDEX_PROJECTION =
  'id, #type, importance, accessCount, createdAt, lastAccessedAt, expiresAt, customerId, embedding, embeddingModel';
const LIST_PROJECTION =
  'id, tenantId, agentId, #type, content, importance, accessCount, lastAccessedAt, customerId, tags, createdAt, updatedAt, version, expiresAt, embeddingModel';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function toRecord(item: Record<string, unknown>): MemoryRecord {
  const record: Record<string, unknown> = {
    id: item.id,
    tenantId: item.tenantId,
    agentId: item.agentId,
    type: item.type,
    content: item.content,
    importance: item.importance,
    accessCount: item.accessCount ?? 0,
    tags: item.tags ?? [],
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
    expiresAt: item.expiresAt,
    embeddingModel: item.embeddingModel,
  };
  if (item.lastAccessedAt !== undefined) record.lastAccessedAt = item.lastAccessedAt;
  if (item.customerId !== undefined) record.customerId = item.customerId;
  return record as unknown as MemoryRecord;
}

function toMemory(item: Record<string, unknown>): Memory {
  return { ...toRecord(item), embedding: decodeVector(item.embedding as Uint8Array) };
}

function indexed(item: {
  id: string;
  type: MemoryType;
  importance: number;
  accessCount?: number;
  createdAt: string;
  lastAccessedAt?: string | undefined;
  expiresAt: number;
  customerId?: string | undefined;
}): IndexedMemory {
  return {
    id: item.id,
    type: item.type,
    importance: item.importance,
    accessCount: item.accessCount ?? 0,
    createdAtMs: Date.parse(item.createdAt),
    lastAccessedAtMs: item.lastAccessedAt === undefined ? undefined : Date.parse(item.lastAccessedAt),
    expiresAt: item.expiresAt,
    customerId: item.customerId,
  };
}

interface CachedIndex {
  /** The memory generation the index reflects (it may be ahead of a read that raced a local write). */
  generation: number;
  readonly model: string;
  readonly index: MemoryIndex;
}

/**
 * The vectors of the agents this process has searched, least recently used evicted first
 * beyond `maxBytes` (10,000 memories at 512 dimensions ≈ 21 MB). One per process by default
 * (`processVectorCache`), shared by every repository on the same table; tests give each
 * repository its own to play two processes.
 */
export class VectorCache {
  private readonly entries = new Map<string, CachedIndex>();
  /** Loads in progress, so concurrent searches of a cold agent read the table once. */
  readonly loads = new Map<string, Promise<MemoryIndex>>();

  constructor(readonly maxBytes = 128 * 1024 * 1024) {}

  get(key: string): CachedIndex | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  peek(key: string): CachedIndex | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: CachedIndex): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    let total = 0;
    for (const cached of this.entries.values()) total += cached.index.byteSize;
    for (const [oldest, cached] of this.entries) {
      if (total <= this.maxBytes || oldest === key) break;
      total -= cached.index.byteSize;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

export const processVectorCache = new VectorCache();

const MAX_TRANSACTION_ATTEMPTS = 5;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DynamoMemoryRepository implements MemoryRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
    private readonly cache: VectorCache = processVectorCache,
  ) {}

  private cacheKey(tenantId: string, agentId: string): string {
    return `${this.tableName}\u0000${tenantId}\u0000${agentId}`;
  }

  /**
   * Runs a memory write in one transaction with the bump of the agent's generation, so no
   * reader can see the change without the new generation or the reverse. When this process
   * holds the agent's index at generation G, the bump is made conditional on G: if it holds,
   * nobody else wrote in between and `patch` brings the index to G + 1 without a reload; if
   * not, the index is stale anyway, is dropped, and the write goes again unconditionally.
   * Transactions that collide on the generation item are retried with jittered backoff.
   */
  private async commit(
    tenantId: string,
    agentId: string,
    items: NonNullable<TransactWriteCommandInput['TransactItems']>,
    failure: (index: number, item: Record<string, unknown> | undefined) => Error | undefined,
    /** Applies the write to the cached index; false if it cannot (the index is then dropped). */
    patch?: (cached: CachedIndex) => boolean,
  ): Promise<void> {
    const key = this.cacheKey(tenantId, agentId);
    let cached = this.cache.peek(key);
    for (let attempt = 1; ; attempt++) {
      const expected = cached?.generation;
      const bump = {
        Update: {
          TableName: this.tableName,
          Key: memoryGenerationKey(tenantId, agentId),
          UpdateExpression: 'ADD generation :one',
          ExpressionAttributeValues: { ':one': 1, ...(expected ? { ':expected': expected } : {}) },
          ...(expected === undefined
            ? {}
            : {
                ConditionExpression:
                  expected === 0 ? 'attribute_not_exists(generation)' : 'generation = :expected',
              }),
        },
      };
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: [...items, bump] }));
        if (
          cached &&
          expected !== undefined &&
          this.cache.peek(key) === cached &&
          cached.generation === expected
        ) {
          if (patch?.(cached)) cached.generation = expected + 1;
          else this.cache.delete(key);
        }
        return;
      } catch (error) {
        for (let i = 0; i < items.length; i++) {
          const failed = transactionItemAtFailure(error, i);
          if (failed.failed) throw failure(i, failed.item) ?? error;
        }
        if (transactionItemAtFailure(error, items.length).failed) {
          this.cache.delete(key);
          cached = undefined;
          continue;
        }
        const reasons =
          error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        if (reasons.some((r) => r.Code === 'TransactionConflict') && attempt < MAX_TRANSACTION_ATTEMPTS) {
          await sleep(Math.random() * 20 * 2 ** attempt);
          continue;
        }
        throw error;
      }
    }
  }

  async create(memory: Memory): Promise<void> {
    const { embedding, ...fields } = memory;
    await this.commit(
      memory.tenantId,
      memory.agentId,
      [
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...memoryKey(memory.tenantId, memory.agentId, memory.id),
              entity: 'memory',
              ...fields,
              tags: [...memory.tags],
              embedding: encodeVector(embedding),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...memoryRefKey(memory.tenantId, memory.id),
              entity: 'memoryRef',
              agentId: memory.agentId,
              expiresAt: memory.expiresAt,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      () => new ConflictError(`Memory ${memory.id} already exists`),
      (cached) => {
        if (cached.model === memory.embeddingModel) cached.index.upsert(indexed(memory), embedding);
        return true;
      },
    );
  }

  async get(tenantId: string, agentId: string, memoryId: string): Promise<Memory | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: memoryKey(tenantId, agentId, memoryId),
        ConsistentRead: true,
      }),
    );
    return Item && (Item.expiresAt as number) > nowSeconds() ? toMemory(Item) : undefined;
  }

  async agentOf(tenantId: string, memoryId: string): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: memoryRefKey(tenantId, memoryId),
        ConsistentRead: true,
      }),
    );
    return Item && (Item.expiresAt as number) > nowSeconds() ? (Item.agentId as string) : undefined;
  }

  list(tenantId: string, agentId: string, query: MemoryListQuery): Promise<Page<MemoryRecord>> {
    const values: Record<string, unknown> = {
      ':pk': memoryPartition(tenantId, agentId),
      ':prefix': 'MEM#',
      ':now': nowSeconds(),
    };
    const filters = ['expiresAt > :now'];
    if (query.type) {
      values[':type'] = query.type;
      filters.push('#type = :type');
    }
    if (query.customerId) {
      values[':customerId'] = query.customerId;
      filters.push('customerId = :customerId');
    }
    if (query.tag) {
      values[':tag'] = query.tag;
      filters.push('contains(tags, :tag)');
    }
    return queryPage<MemoryRecord>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: filters.join(' AND '),
        ProjectionExpression: LIST_PROJECTION,
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      // The cursor is only valid for the same tenant, agent and filters it was issued for.
      scope: JSON.stringify(['memories', tenantId, agentId, query.type, query.customerId, query.tag]),
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      map: toRecord,
    });
  }

  async update(
    tenantId: string,
    agentId: string,
    memoryId: string,
    changes: MemoryChanges,
    expectedVersion: number,
    now: string,
  ): Promise<void> {
    const { embedding, tags, ...rest } = changes;
    const set: Record<string, unknown> = { ...rest };
    if (tags !== undefined) set.tags = [...tags];
    if (embedding !== undefined) set.embedding = encodeVector(embedding);
    const update = versionedUpdate(set, expectedVersion, {}, now);
    await this.commit(
      tenantId,
      agentId,
      [
        {
          Update: {
            TableName: this.tableName,
            Key: memoryKey(tenantId, agentId, memoryId),
            ...update,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
      (_index, item) =>
        item
          ? new ConflictError(
              `Memory ${memoryId} was changed by someone else (now version ${String(item.version)}); re-read it and retry`,
              { currentVersion: item.version },
            )
          : new NotFoundError('Memory', memoryId),
      (cached) => {
        if (embedding !== undefined && changes.embeddingModel !== cached.model) {
          cached.index.remove(memoryId);
          return true;
        }
        const patched = cached.index.patch(
          memoryId,
          {
            ...(changes.type === undefined ? {} : { type: changes.type }),
            ...(changes.importance === undefined ? {} : { importance: changes.importance }),
          },
          embedding,
        );
        // A memory newly embedded into this space has no row to patch: only a reload adds it.
        return patched || embedding === undefined;
      },
    );
  }

  async delete(tenantId: string, agentId: string, memoryId: string): Promise<void> {
    await this.commit(
      tenantId,
      agentId,
      [
        {
          Delete: {
            TableName: this.tableName,
            Key: memoryKey(tenantId, agentId, memoryId),
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        { Delete: { TableName: this.tableName, Key: memoryRefKey(tenantId, memoryId) } },
      ],
      () => new NotFoundError('Memory', memoryId),
      (cached) => {
        cached.index.remove(memoryId);
        return true;
      },
    );
  }

  async vectorIndex(tenantId: string, agentId: string, space: EmbeddingSpace): Promise<MemoryIndex> {
    const key = this.cacheKey(tenantId, agentId);
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: memoryGenerationKey(tenantId, agentId),
        ConsistentRead: true,
        ProjectionExpression: 'generation',
      }),
    );
    const generation = typeof Item?.generation === 'number' ? Item.generation : 0;
    const cached = this.cache.get(key);
    if (cached && cached.model === space.model && cached.generation >= generation) return cached.index;

    const loadKey = `${key}\u0000${space.model}\u0000${generation}`;
    let load = this.cache.loads.get(loadKey);
    if (!load) {
      load = this.load(tenantId, agentId, space).finally(() => this.cache.loads.delete(loadKey));
      this.cache.loads.set(loadKey, load);
    }
    const index = await load;
    const current = this.cache.peek(key);
    if (!current || current.model !== space.model || current.generation < generation) {
      this.cache.set(key, { generation, model: space.model, index });
      return index;
    }
    return current.index;
  }

  /**
   * Reads every live memory of the agent in `space`. Strongly consistent, and started after the
   * generation was read: it sees at least every write up to that generation.
   */
  private async load(tenantId: string, agentId: string, space: EmbeddingSpace): Promise<MemoryIndex> {
    const index = new MemoryIndex(space.dimensions, 256);
    const now = nowSeconds();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':pk': memoryPartition(tenantId, agentId), ':prefix': 'MEM#' },
          ProjectionExpression: INDEX_PROJECTION,
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        // Vectors of another embedder are not comparable; updating such a memory re-embeds it.
        if (item.embeddingModel !== space.model || (item.expiresAt as number) <= now) continue;
        index.upsert(indexed(item as Parameters<typeof indexed>[0]), item.embedding as Uint8Array);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    index.trim();
    return index;
  }

  async recordAccess(
    tenantId: string,
    agentId: string,
    memoryIds: readonly string[],
    now: string,
  ): Promise<MemoryRecord[]> {
    const cached = this.cache.peek(this.cacheKey(tenantId, agentId));
    const found = await Promise.all(
      memoryIds.map(async (memoryId): Promise<MemoryRecord | undefined> => {
        try {
          const { Attributes } = await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: memoryKey(tenantId, agentId, memoryId),
              UpdateExpression: 'ADD accessCount :one SET lastAccessedAt = :now',
              // Never recreate a memory deleted since it was ranked.
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':one': 1, ':now': now },
              ReturnValues: 'ALL_NEW',
            }),
          );
          const record = toRecord(Attributes ?? {});
          cached?.index.noteAccess(memoryId, record.accessCount, Date.parse(now));
          return record;
        } catch (error) {
          if (isConditionFailure(error)) return undefined;
          // The counters are best-effort; the content is what the caller needs.
          const memory = await this.get(tenantId, agentId, memoryId).catch(() => {
            throw error;
          });
          if (!memory) return undefined;
          const { embedding: _e, ...record } = memory;
          return record;
        }
      }),
    );
    return found.filter((memory): memory is MemoryRecord => memory !== undefined);
  }
}
