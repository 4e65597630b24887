import { BatchWriteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/document-client';
import { DynamoLocationRepository } from '../../lambdas/adapters/dynamodb/location-repository';
import {
  DynamoMemoryRepository,
  memoryGenerationKey,
  memoryKey,
  memoryRefKey,
  VectorCache,
} from '../../lambdas/adapters/dynamodb/memory-repository';
import { HashEmbedder } from '../../lambdas/adapters/local/hash-embedder';
import { createAgent, deleteAgent } from '../../lambdas/domain/agents/agents';
import { agentCreateBody } from '../../lambdas/domain/agents/schemas';
import {
  createMemory,
  deleteMemory,
  embeddingSpace,
  getMemory,
  listMemories,
  type MemoryDeps,
  memorySearch,
  retrieveMemories,
  searchMemories,
  updateMemory,
} from '../../lambdas/domain/memory/memories';
import { memoryCreateBody, memorySearchBody } from '../../lambdas/domain/memory/schemas';
import { encodeVector } from '../../lambdas/domain/memory/vectors';
import { ConflictError, NotFoundError } from '../../lambdas/domain/shared/errors';
import { newId } from '../../lambdas/domain/shared/ids';
import type { Principal } from '../../lambdas/domain/shared/principal';
import { dynamoEndpoint, freshTable } from '../support/dynamodb';

let table: Awaited<ReturnType<typeof freshTable>>;
const embedder = new HashEmbedder(256);
const space = embeddingSpace(embedder);

/** One "process": its own vector cache, as a separate Lambda instance would have. */
function processDeps(clock?: () => Date): MemoryDeps & { memories: DynamoMemoryRepository } {
  return {
    agents: new DynamoAgentRepository(table.client, table.tableName),
    memories: new DynamoMemoryRepository(table.client, table.tableName, new VectorCache()),
    embedder,
    ...(clock ? { clock } : {}),
  };
}

const principal = (tenantId = newId('tenant')): Principal => ({
  tenantId,
  userId: newId('user'),
  role: 'owner',
});

async function newAgent(actor: Principal, retentionDays = 365) {
  return createAgent(
    {
      agents: new DynamoAgentRepository(table.client, table.tableName),
      locations: new DynamoLocationRepository(table.client, table.tableName),
    },
    actor,
    agentCreateBody().parse({
      name: 'Memo',
      businessType: 'dental',
      model: { provider: 'scripted', modelId: 'scripted-v1' },
      memory: { enabled: true, retentionDays },
    }),
  );
}

const body = (content: string, extra: Record<string, unknown> = {}) =>
  memoryCreateBody().parse({ type: 'semantic', content, ...extra });
const search = (query: string, extra: Record<string, unknown> = {}) =>
  memorySearchBody().parse({ query, ...extra });

async function generation(tenantId: string, agentId: string): Promise<number> {
  const { Item } = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: memoryGenerationKey(tenantId, agentId),
      ConsistentRead: true,
    }),
  );
  return (Item?.generation as number | undefined) ?? 0;
}

beforeAll(async () => {
  table = await freshTable();
});

describe('memory storage on DynamoDB Local', () => {
  it('bumps the agent’s generation on every create, update and delete, and on nothing else', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    expect(await generation(actor.tenantId, agent.id)).toBe(0);
    const memory = await createMemory(deps, actor, agent.id, body('The clinic opens at nine'));
    expect(await generation(actor.tenantId, agent.id)).toBe(1);
    await updateMemory(deps, actor, memory.id, { importance: 0.9 });
    expect(await generation(actor.tenantId, agent.id)).toBe(2);
    await searchMemories(deps, actor, agent.id, search('when does the clinic open'));
    await listMemories(deps, actor, agent.id, { limit: 10 });
    expect(await generation(actor.tenantId, agent.id)).toBe(2);
    await deleteMemory(deps, actor, memory.id);
    expect(await generation(actor.tenantId, agent.id)).toBe(3);
    await expect(deleteMemory(deps, actor, memory.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await generation(actor.tenantId, agent.id)).toBe(3);
  });

  it('stores the vector as float32 bytes, the TTL from the agent’s retention on memory and id lookup', async () => {
    const actor = principal();
    const agent = await newAgent(actor, 30);
    const deps = processDeps();
    const before = Math.floor(Date.now() / 1000);
    const memory = await createMemory(deps, actor, agent.id, body('Parking is behind the building'));
    const after = Math.floor(Date.now() / 1000);
    const { Item } = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: memoryKey(actor.tenantId, agent.id, memory.id) }),
    );
    expect(Item?.expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400);
    expect(Item?.expiresAt).toBeLessThanOrEqual(after + 30 * 86_400);
    expect(Item?.embedding).toBeInstanceOf(Uint8Array);
    expect((Item?.embedding as Uint8Array | undefined)?.byteLength).toBe(256 * 4);
    expect(Item?.embeddingModel).toBe('hash-v1/256');
    const { Item: ref } = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: memoryRefKey(actor.tenantId, memory.id) }),
    );
    expect(ref).toMatchObject({ agentId: agent.id, expiresAt: Item?.expiresAt });
    expect(new Date(memory.expiresAt).getTime() / 1000).toBe(Item?.expiresAt);
  });

  it('treats a memory past its retention as gone before TTL removes it', async () => {
    const actor = principal();
    const agent = await newAgent(actor, 1);
    const past = new Date(Date.now() - 3 * 86_400_000);
    const oldDeps = processDeps(() => past);
    const expired = await createMemory(oldDeps, actor, agent.id, body('An old note about parking'));
    const deps = processDeps();
    const fresh = await createMemory(deps, actor, agent.id, body('A new note about parking'));
    expect((await listMemories(deps, actor, agent.id, { limit: 10 })).items.map((m) => m.id)).toEqual([
      fresh.id,
    ]);
    await expect(getMemory(deps, actor, expired.id)).rejects.toBeInstanceOf(NotFoundError);
    const found = await searchMemories(deps, actor, agent.id, search('parking note', { k: 10 }));
    expect(found.items.map((m) => m.id)).toEqual([fresh.id]);
  });

  it('keeps a warm process’s index current across processes: one GetItem when nothing changed, a reload when something did', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const readerClient = createDocumentClient({ region: 'us-east-1', endpoint: dynamoEndpoint() });
    const readerCalls: string[] = [];
    readerClient.middlewareStack.add(
      (next, context) => async (args) => {
        // The document client's commands reach the middleware under their own or the low-level name.
        readerCalls.push(String(context.commandName).replace(/(Item)?Command$/, ''));
        return next(args);
      },
      { step: 'initialize' },
    );
    const reader = {
      ...processDeps(),
      memories: new DynamoMemoryRepository(readerClient, table.tableName, new VectorCache()),
    };
    const writer = processDeps();
    await createMemory(writer, actor, agent.id, body('Cats purr when content'));
    const first = await reader.memories.vectorIndex(actor.tenantId, agent.id, space);
    expect(first.size).toBe(1);
    expect(readerCalls).toEqual(['Get', 'Query']);
    readerCalls.length = 0;
    expect(await reader.memories.vectorIndex(actor.tenantId, agent.id, space)).toBe(first);
    expect(readerCalls).toEqual(['Get']);

    const dogs = await createMemory(writer, actor, agent.id, body('Dogs bark at the mail carrier'));
    const second = await reader.memories.vectorIndex(actor.tenantId, agent.id, space);
    expect(second).not.toBe(first);
    expect(second.has(dogs.id)).toBe(true);
    let hits = await searchMemories(reader, actor, agent.id, search('why do dogs bark'));
    expect(hits.items[0]?.id).toBe(dogs.id);

    await updateMemory(writer, actor, dogs.id, { content: 'Parrots repeat words they hear' });
    hits = await searchMemories(reader, actor, agent.id, search('parrots repeat words'));
    expect(hits.items[0]).toMatchObject({
      id: dogs.id,
      content: 'Parrots repeat words they hear',
      version: 2,
    });

    await deleteMemory(writer, actor, dogs.id);
    const third = await reader.memories.vectorIndex(actor.tenantId, agent.id, space);
    expect(third.has(dogs.id)).toBe(false);
    hits = await searchMemories(reader, actor, agent.id, search('parrots repeat words', { k: 5 }));
    expect(hits.items.map((m) => m.id)).not.toContain(dogs.id);
  });

  it('applies a process’s own writes to its cached index without reloading it', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    await createMemory(deps, actor, agent.id, body('Seed memory'));
    const index = await deps.memories.vectorIndex(actor.tenantId, agent.id, space);
    const added = await createMemory(deps, actor, agent.id, body('Bicycles have two wheels'));
    await updateMemory(deps, actor, added.id, { content: 'Tricycles have three wheels', type: 'procedural' });
    const removed = await createMemory(deps, actor, agent.id, body('Soon gone'));
    await deleteMemory(deps, actor, removed.id);
    // Same object: patched in place at each write, then confirmed by the generation read.
    expect(await deps.memories.vectorIndex(actor.tenantId, agent.id, space)).toBe(index);
    expect(index.size).toBe(2);
    const hits = await searchMemories(
      deps,
      actor,
      agent.id,
      search('three wheels', { types: ['procedural'] }),
    );
    expect(hits.items.map((m) => m.id)).toEqual([added.id]);
    // Another process's write in between: the next own write finds its cache stale and drops it.
    await createMemory(processDeps(), actor, agent.id, body('Written elsewhere'));
    await createMemory(deps, actor, agent.id, body('Written here after'));
    const reloaded = await deps.memories.vectorIndex(actor.tenantId, agent.id, space);
    expect(reloaded).not.toBe(index);
    expect(reloaded.size).toBe(4);
    expect(await generation(actor.tenantId, agent.id)).toBe(7);
  });

  it('loses no write when many land at once on one agent (generation contention is retried)', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    await deps.memories.vectorIndex(actor.tenantId, agent.id, space);
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        createMemory(deps, actor, agent.id, body(`Concurrent fact number ${i}`)),
      ),
    );
    expect(await generation(actor.tenantId, agent.id)).toBe(12);
    const index = await processDeps().memories.vectorIndex(actor.tenantId, agent.id, space);
    expect(index.size).toBe(12);
    const mine = await deps.memories.vectorIndex(actor.tenantId, agent.id, space);
    expect(created.every((m) => mine.has(m.id))).toBe(true);
  });

  it('counts every recall atomically, even when searches race', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    const memory = await createMemory(deps, actor, agent.id, body('The receptionist is called Maria'));
    await Promise.all(
      Array.from({ length: 8 }, () =>
        searchMemories(processDeps(), actor, agent.id, search('receptionist name')),
      ),
    );
    const stored = await getMemory(deps, actor, memory.id);
    expect(stored.accessCount).toBe(8);
    expect(stored.lastAccessedAt).toBeDefined();
    expect(stored.version).toBe(1);
  });

  it('loads an index bigger than one Query page', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const big = new HashEmbedder(1024);
    const bigSpace = embeddingSpace(big);
    const now = new Date().toISOString();
    const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
    const ids: string[] = [];
    // 600 × 4 KiB vectors ≈ 2.4 MB: at least three 1 MB pages.
    for (let batch = 0; batch < 24; batch++) {
      const items = Array.from({ length: 25 }, (_, i) => {
        const id = newId('memory');
        ids.push(id);
        return {
          PutRequest: {
            Item: {
              ...memoryKey(actor.tenantId, agent.id, id),
              id,
              tenantId: actor.tenantId,
              agentId: agent.id,
              type: 'episodic',
              content: `bulk ${batch * 25 + i}`,
              importance: 0.5,
              accessCount: 0,
              tags: [],
              createdAt: now,
              updatedAt: now,
              version: 1,
              expiresAt,
              embedding: encodeVector(big.embedSync(`bulk memory number ${batch * 25 + i}`)),
              embeddingModel: bigSpace.model,
            },
          },
        };
      });
      await table.client.send(new BatchWriteCommand({ RequestItems: { [table.tableName]: items } }));
    }
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: memoryGenerationKey(actor.tenantId, agent.id),
        UpdateExpression: 'ADD generation :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    const deps = { ...processDeps(), embedder: big };
    const index = await deps.memories.vectorIndex(actor.tenantId, agent.id, bigSpace);
    expect(index.size).toBe(600);
    // Vectors of another space (the 256-dimension hash) are left out, not mixed in.
    expect((await processDeps().memories.vectorIndex(actor.tenantId, agent.id, space)).size).toBe(0);
    const [hit] = await retrieveMemories(
      deps,
      { tenantId: actor.tenantId, agentId: agent.id },
      {
        query: 'bulk memory number 417',
        k: 1,
      },
    );
    expect(hit?.memory.content).toBe('bulk 417');
  });

  it('lists newest first with filters and a cursor bound to the listing', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    const customer = newId('customer');
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await createMemory(
          deps,
          actor,
          agent.id,
          body(`note ${i}`, {
            type: i % 2 === 0 ? 'episodic' : 'social',
            tags: i === 4 ? ['vip'] : [],
            ...(i < 3 ? { customerId: customer } : {}),
          }),
        ),
      );
    }
    const page1 = await listMemories(deps, actor, agent.id, { limit: 2 });
    expect(page1.items.map((m) => m.content)).toEqual(['note 4', 'note 3']);
    const page2 = await listMemories(deps, actor, agent.id, { limit: 2, cursor: page1.nextCursor as string });
    expect(page2.items.map((m) => m.content)).toEqual(['note 2', 'note 1']);
    expect((await listMemories(deps, actor, agent.id, { limit: 10, type: 'episodic' })).items).toHaveLength(
      3,
    );
    expect(
      (await listMemories(deps, actor, agent.id, { limit: 10, customerId: customer })).items,
    ).toHaveLength(3);
    expect(
      (await listMemories(deps, actor, agent.id, { limit: 10, tag: 'vip' })).items.map((m) => m.content),
    ).toEqual(['note 4']);
    await expect(
      listMemories(deps, actor, agent.id, { limit: 2, type: 'social', cursor: page1.nextCursor as string }),
    ).rejects.toThrow(/cursor/);
    expect(page1.items[0]).not.toHaveProperty('embedding');
    expect(made).toHaveLength(5);
  });

  it('refuses a stale If-Match and lets one of two racing updates win', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    const memory = await createMemory(deps, actor, agent.id, body('Version one'));
    await updateMemory(deps, actor, memory.id, { importance: 0.7 }, 1);
    await expect(updateMemory(deps, actor, memory.id, { importance: 0.1 }, 1)).rejects.toBeInstanceOf(
      ConflictError,
    );
    const outcomes = await Promise.allSettled([
      updateMemory(processDeps(), actor, memory.id, { content: 'Writer A' }, 2),
      updateMemory(processDeps(), actor, memory.id, { content: 'Writer B' }, 2),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const loser = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(loser?.reason).toBeInstanceOf(ConflictError);
    expect((await getMemory(deps, actor, memory.id)).version).toBe(3);
  });
});

describe('memory isolation', () => {
  it('never returns agent A’s memories for agent B, nor tenant A’s for tenant B', async () => {
    const tenantA = principal();
    const tenantB = principal();
    const agentA = await newAgent(tenantA);
    const agentA2 = await newAgent(tenantA);
    const agentB = await newAgent(tenantB);
    const deps = processDeps();
    const secret = await createMemory(deps, tenantA, agentA.id, body('The vault code is 4711'));
    await createMemory(deps, tenantB, agentB.id, body('Nothing about vaults here'));

    const sameTenant = await searchMemories(deps, tenantA, agentA2.id, search('vault code', { k: 50 }));
    expect(sameTenant.items).toEqual([]);
    const otherTenant = await searchMemories(deps, tenantB, agentB.id, search('vault code', { k: 50 }));
    expect(otherTenant.items.map((m) => m.id)).not.toContain(secret.id);
    expect((await listMemories(deps, tenantA, agentA2.id, { limit: 100 })).items).toEqual([]);

    // Tenant B naming A's agent or A's memory: not found, and nothing changes.
    await expect(searchMemories(deps, tenantB, agentA.id, search('vault'))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(listMemories(deps, tenantB, agentA.id, { limit: 10 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(getMemory(deps, tenantB, secret.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(updateMemory(deps, tenantB, secret.id, { content: 'pwned' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(deleteMemory(deps, tenantB, secret.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await deps.memories.agentOf(tenantB.tenantId, secret.id)).toBeUndefined();
    expect((await getMemory(deps, tenantA, secret.id)).content).toBe('The vault code is 4711');
  });

  it('hides memories of a deleted agent', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    const memory = await createMemory(deps, actor, agent.id, body('Soon orphaned'));
    await deleteAgent(
      {
        agents: deps.agents as DynamoAgentRepository,
        locations: new DynamoLocationRepository(table.client, table.tableName),
      },
      actor,
      agent.id,
    );
    await expect(getMemory(deps, actor, memory.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(searchMemories(deps, actor, agent.id, search('orphaned'))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(createMemory(deps, actor, agent.id, body('x'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('gives the runtime one customer’s memories plus the general ones, never another customer’s', async () => {
    const actor = principal();
    const agent = await newAgent(actor);
    const deps = processDeps();
    const ana = newId('customer');
    const ben = newId('customer');
    await createMemory(deps, actor, agent.id, body('Ana prefers morning cleanings', { customerId: ana }));
    await createMemory(deps, actor, agent.id, body('Ben prefers evening cleanings', { customerId: ben }));
    await createMemory(deps, actor, agent.id, body('Cleanings take forty minutes', { type: 'procedural' }));
    const port = memorySearch(deps);
    const forAna = await port.search(actor.tenantId, agent.id, 'cleanings', { k: 10, customerId: ana });
    expect(forAna.map((m) => m.content).sort()).toEqual([
      'Ana prefers morning cleanings',
      'Cleanings take forty minutes',
    ]);
    const anonymous = await port.search(actor.tenantId, agent.id, 'cleanings', { k: 10 });
    expect(anonymous.map((m) => m.content)).toEqual(['Cleanings take forty minutes']);
  });
});
