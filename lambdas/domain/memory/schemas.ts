import * as z from 'zod/mini';
import { idSchema } from '../shared/ids';
import { pageQueryFields } from '../shared/pagination';
import {
  boundedArray,
  instant,
  integer,
  lazySchema,
  lazyValue,
  rawText,
  storableNumber,
  text,
  unique,
} from '../shared/zod';

/**
 * Long-term memory kinds: what happened (episodic), facts (semantic), how to do things
 * (procedural), and people and relationships (social).
 */
export const MEMORY_TYPES = ['episodic', 'semantic', 'procedural', 'social'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

export const MEMORY_CONTENT_MAX = 4000;
export const SEARCH_K_DEFAULT = 5;
export const SEARCH_K_MAX = 50;
export const DEFAULT_IMPORTANCE = 0.5;

/**
 * A stored memory. `embedding` is the unit-length vector of `content` in the space named by
 * `embeddingModel`; it never leaves the service (see `MemoryView`). `expiresAt` (epoch seconds,
 * the table's TTL attribute) is fixed at creation from the agent's `memory.retentionDays`:
 * retention counts from when the memory was collected, not from its last edit.
 */
export interface Memory {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  readonly type: MemoryType;
  readonly content: string;
  readonly importance: number;
  readonly accessCount: number;
  /** Absent until the memory is first recalled. */
  readonly lastAccessedAt?: string;
  readonly customerId?: string;
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
  readonly expiresAt: number;
  readonly embedding: Float32Array;
  /** `<embedder name>/<dimensions>`: vectors from different spaces are never compared. */
  readonly embeddingModel: string;
}

/** A memory without its vector: what listings and recalls read (they never need the vector). */
export type MemoryRecord = Omit<Memory, 'embedding'>;

const schemas = lazyValue(() => {
  const memoryType = z.enum(MEMORY_TYPES);
  const content = text(1, MEMORY_CONTENT_MAX);
  const importance = storableNumber().check(z.gte(0), z.lte(1));
  const tag = text(1, 50);
  const tags = boundedArray(tag, 20).check(...unique<string>('must not repeat a tag'));
  const timestamp = z.iso.datetime({ offset: true });

  const memoryCreateBody = z.strictObject({
    type: memoryType,
    content,
    importance: z._default(importance, DEFAULT_IMPORTANCE),
    customerId: z.optional(idSchema('customer')),
    tags: z._default(tags, []),
  });

  /** Fields named replace the stored ones; a new `content` is embedded again. */
  const memoryUpdateBody = z
    .strictObject({
      type: z.optional(memoryType),
      content: z.optional(content),
      importance: z.optional(importance),
      tags: z.optional(tags),
    })
    .check(z.refine((patch) => Object.keys(patch).length > 0, 'must change at least one field'));

  const memorySearchBody = z
    .strictObject({
      query: text(1, MEMORY_CONTENT_MAX),
      k: z._default(integer(1, SEARCH_K_MAX), SEARCH_K_DEFAULT),
      types: z.optional(
        boundedArray(memoryType, MEMORY_TYPES.length, 1).check(
          ...unique<MemoryType>('must not repeat a type'),
        ),
      ),
      createdAfter: z.optional(timestamp),
      createdBefore: z.optional(timestamp),
      minSimilarity: z.optional(storableNumber().check(z.gte(-1), z.lte(1))),
      customerId: z.optional(idSchema('customer')),
    })
    .check(
      z.refine(
        (body) =>
          body.createdAfter === undefined ||
          body.createdBefore === undefined ||
          Date.parse(body.createdAfter) < Date.parse(body.createdBefore),
        { message: 'must be later than createdAfter', path: ['createdBefore'] },
      ),
    );

  const memoryListQuery = z.strictObject({
    ...pageQueryFields(),
    type: z.optional(memoryType),
    customerId: z.optional(idSchema('customer')),
    tag: z.optional(tag),
  });

  return { memoryCreateBody, memoryUpdateBody, memorySearchBody, memoryListQuery };
});

export const memoryCreateBody = () => schemas().memoryCreateBody;
export type MemoryCreateInput = z.infer<ReturnType<typeof memoryCreateBody>>;
export const memoryUpdateBody = () => schemas().memoryUpdateBody;
export type MemoryUpdateInput = z.infer<ReturnType<typeof memoryUpdateBody>>;
export const memorySearchBody = () => schemas().memorySearchBody;
export type MemorySearchInput = z.infer<ReturnType<typeof memorySearchBody>>;
export const memoryListQuery = () => schemas().memoryListQuery;
export type MemoryListQuery = z.infer<ReturnType<typeof memoryListQuery>>;

// Response shapes: built only when the OpenAPI document is.
export const memoryResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    agentId: z.string(),
    type: z.enum(MEMORY_TYPES),
    content: rawText(MEMORY_CONTENT_MAX),
    importance: z.number(),
    /** Importance after decay and the access boost, now (see `effectiveImportance`). */
    effectiveImportance: z.number(),
    accessCount: z.int(),
    lastAccessedAt: z.optional(instant()),
    customerId: z.optional(z.string()),
    tags: z.array(z.string()),
    createdAt: instant(),
    updatedAt: instant(),
    version: z.int(),
    /** When retention removes it (ISO time). */
    expiresAt: instant(),
  }),
);
export type MemoryView = z.infer<ReturnType<typeof memoryResponse>>;

export const memorySearchResponse = lazySchema(() =>
  z.object({
    items: z.array(
      z.object({
        ...memoryResponse().shape,
        /** Cosine similarity of the query and the memory, in [-1, 1]. */
        similarity: z.number(),
        /** What results are ordered by: similarity + IMPORTANCE_WEIGHT × effectiveImportance. */
        score: z.number(),
      }),
    ),
  }),
);
export type ScoredMemoryView = z.infer<ReturnType<typeof memorySearchResponse>>['items'][number];
