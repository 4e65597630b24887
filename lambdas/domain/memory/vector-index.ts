import { effectiveImportance, IMPORTANCE_WEIGHT, rankScore } from './decay';
import { MEMORY_TYPES, type MemoryType } from './schemas';
import { decodeVectorInto, dotAt } from './vectors';

/** What the index keeps of a memory besides its vector: what filters and ranking read. */
export interface IndexedMemory {
  readonly id: string;
  readonly type: MemoryType;
  readonly importance: number;
  readonly accessCount: number;
  readonly createdAtMs: number;
  readonly lastAccessedAtMs?: number | undefined;
  /** Epoch seconds (the TTL attribute): expired memories are skipped before TTL removes them. */
  readonly expiresAt: number;
  readonly customerId?: string | undefined;
}

export interface MemoryFilter {
  readonly types?: readonly MemoryType[];
  /**
   * Whose memories: absent = everyone's; a customer id = that customer's only; `null` = only
   * those about no customer in particular.
   */
  readonly customerId?: string | null;
  /** With a customer id, also those about no customer (the runtime's view of one customer). */
  readonly includeUnassigned?: boolean;
  /** Exclusive bounds on creation time. */
  readonly createdAfterMs?: number;
  readonly createdBeforeMs?: number;
  /** Inclusive lower bound on cosine similarity. */
  readonly minSimilarity?: number;
}

export interface IndexHit {
  readonly id: string;
  readonly similarity: number;
  readonly effectiveImportance: number;
  readonly score: number;
}

const TYPE_CODE = new Map<MemoryType, number>(MEMORY_TYPES.map((type, i) => [type, i]));
const TYPE_OF = MEMORY_TYPES;

/**
 * An agent's memory vectors as one Float32Array matrix (row-major, `dimensions` floats a row)
 * with the filter and ranking fields in parallel typed arrays, searched by brute force: at
 * 10,000 × 512 a top-k is ~5 M multiply-adds, a few milliseconds, with no approximate index to
 * tune or keep in step. Rows are unordered; removal moves the last row into the hole.
 */
export class MemoryIndex {
  private capacity: number;
  private count = 0;
  private matrix: Float32Array;
  private ids: string[] = [];
  private customers: (string | undefined)[] = [];
  private types: Uint8Array;
  private importance: Float32Array;
  private accessCount: Float64Array;
  private createdAt: Float64Array;
  private lastAccessedAt: Float64Array;
  private expiresAt: Float64Array;
  private readonly rowOf = new Map<string, number>();

  constructor(
    readonly dimensions: number,
    initialCapacity = 64,
  ) {
    if (!Number.isInteger(dimensions) || dimensions < 1) throw new Error(`bad dimensions ${dimensions}`);
    this.capacity = Math.max(1, initialCapacity);
    this.matrix = new Float32Array(this.capacity * dimensions);
    this.types = new Uint8Array(this.capacity);
    this.importance = new Float32Array(this.capacity);
    this.accessCount = new Float64Array(this.capacity);
    this.createdAt = new Float64Array(this.capacity);
    this.lastAccessedAt = new Float64Array(this.capacity);
    this.expiresAt = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held, for the cache's budget. */
  get byteSize(): number {
    return this.capacity * (this.dimensions * 4 + 1 + 4 + 8 * 4) + this.count * 64;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** Adds or replaces a memory; `vector` is a unit-length Float32Array or its stored bytes. */
  upsert(memory: IndexedMemory, vector: Float32Array | Uint8Array): void {
    const floats = vector instanceof Float32Array ? vector.length : vector.byteLength / 4;
    if (floats !== this.dimensions) {
      throw new Error(`memory ${memory.id}: vector has ${floats} dimensions, the index ${this.dimensions}`);
    }
    let row = this.rowOf.get(memory.id);
    if (row === undefined) {
      if (this.count === this.capacity) this.grow();
      row = this.count++;
      this.rowOf.set(memory.id, row);
    }
    const offset = row * this.dimensions;
    if (vector instanceof Float32Array) this.matrix.set(vector, offset);
    else decodeVectorInto(vector, this.matrix, offset);
    this.ids[row] = memory.id;
    this.customers[row] = memory.customerId;
    this.types[row] = TYPE_CODE.get(memory.type) ?? 0;
    this.importance[row] = memory.importance;
    this.accessCount[row] = memory.accessCount;
    this.createdAt[row] = memory.createdAtMs;
    this.lastAccessedAt[row] = memory.lastAccessedAtMs ?? Number.NaN;
    this.expiresAt[row] = memory.expiresAt;
  }

  remove(id: string): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = this.count - 1;
    if (row !== last) {
      const lastId = this.ids[last] as string;
      this.matrix.copyWithin(row * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
      this.ids[row] = lastId;
      this.customers[row] = this.customers[last];
      this.types[row] = this.types[last] as number;
      this.importance[row] = this.importance[last] as number;
      this.accessCount[row] = this.accessCount[last] as number;
      this.createdAt[row] = this.createdAt[last] as number;
      this.lastAccessedAt[row] = this.lastAccessedAt[last] as number;
      this.expiresAt[row] = this.expiresAt[last] as number;
      this.rowOf.set(lastId, row);
    }
    this.ids.length = last;
    this.customers.length = last;
    this.rowOf.delete(id);
    this.count = last;
    return true;
  }

  /** Applies an update this process made; false if the memory is not in the index. */
  patch(
    id: string,
    changes: { readonly type?: MemoryType; readonly importance?: number },
    vector?: Float32Array,
  ): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    if (vector) {
      if (vector.length !== this.dimensions)
        throw new Error(`memory ${id}: vector has ${vector.length} dimensions`);
      this.matrix.set(vector, row * this.dimensions);
    }
    if (changes.type !== undefined) this.types[row] = TYPE_CODE.get(changes.type) ?? 0;
    if (changes.importance !== undefined) this.importance[row] = changes.importance;
    return true;
  }

  /** Keeps ranking current with recalls this process recorded (the values the table returned). */
  noteAccess(id: string, accessCount: number, lastAccessedAtMs: number): void {
    const row = this.rowOf.get(id);
    if (row === undefined) return;
    this.accessCount[row] = accessCount;
    this.lastAccessedAt[row] = lastAccessedAtMs;
  }

  /**
   * The `k` best memories passing `filter`, best first: by `rankScore` (similarity, then
   * effective importance as a small bonus), ties to the newer id. `query` must be unit length.
   */
  search(query: Float32Array, options: { k: number; nowMs: number; filter?: MemoryFilter }): IndexHit[] {
    if (query.length !== this.dimensions) {
      throw new Error(`query has ${query.length} dimensions, the index ${this.dimensions}`);
    }
    const { k, nowMs, filter = {} } = options;
    let typeMask = 0;
    for (const type of filter.types ?? MEMORY_TYPES) typeMask |= 1 << (TYPE_CODE.get(type) ?? 0);
    const after = filter.createdAfterMs ?? Number.NEGATIVE_INFINITY;
    const before = filter.createdBeforeMs ?? Number.POSITIVE_INFINITY;
    const minSimilarity = filter.minSimilarity ?? Number.NEGATIVE_INFINITY;
    const customer = filter.customerId;
    const includeUnassigned = customer === null || filter.includeUnassigned === true;
    const nowSeconds = nowMs / 1000;

    if (k < 1) return [];
    // The current best, kept sorted best-first; k ≤ 50, so insertion beats a heap.
    const hits: IndexHit[] = [];
    const d = this.dimensions;
    for (let row = 0; row < this.count; row++) {
      if (((typeMask >> (this.types[row] as number)) & 1) === 0) continue;
      const created = this.createdAt[row] as number;
      if (created <= after || created >= before) continue;
      if ((this.expiresAt[row] as number) <= nowSeconds) continue;
      if (customer !== undefined) {
        const owner = this.customers[row];
        if (owner === undefined ? !includeUnassigned : owner !== customer) continue;
      }
      const similarity = dotAt(this.matrix, row * d, query, d);
      if (similarity < minSimilarity) continue;
      const worst = hits.length === k ? (hits[k - 1] as IndexHit) : undefined;
      // The importance bonus is at most IMPORTANCE_WEIGHT: most rows lose before paying for it.
      if (worst && similarity + IMPORTANCE_WEIGHT < worst.score) continue;
      const effective = effectiveImportance(
        {
          type: TYPE_OF[this.types[row] as number] as MemoryType,
          importance: this.importance[row] as number,
          accessCount: this.accessCount[row] as number,
          createdAtMs: created,
          lastAccessedAtMs: this.lastAccessedAt[row] as number,
        },
        nowMs,
      );
      const hit: IndexHit = {
        id: this.ids[row] as string,
        similarity,
        effectiveImportance: effective,
        score: rankScore(similarity, effective),
      };
      if (worst && !ranksBefore(hit, worst)) continue;
      let at = hits.length === k ? k - 1 : hits.length;
      while (at > 0 && ranksBefore(hit, hits[at - 1] as IndexHit)) {
        hits[at] = hits[at - 1] as IndexHit;
        at--;
      }
      hits[at] = hit;
    }
    return hits;
  }

  /** Gives back the room doubling left unused (up to half the matrix), e.g. once a load is done. */
  trim(): void {
    this.resize(Math.max(1, this.count));
  }

  private grow(): void {
    this.resize(this.capacity * 2);
  }

  private resize(capacity: number): void {
    const resize = <T extends Float32Array | Float64Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
      per = 1,
    ) => {
      const next = make(capacity * per);
      next.set(old.subarray(0, Math.min(old.length, capacity * per)));
      return next;
    };
    this.matrix = resize(this.matrix, (n) => new Float32Array(n), this.dimensions);
    this.types = resize(this.types, (n) => new Uint8Array(n));
    this.importance = resize(this.importance, (n) => new Float32Array(n));
    this.accessCount = resize(this.accessCount, (n) => new Float64Array(n));
    this.createdAt = resize(this.createdAt, (n) => new Float64Array(n));
    this.lastAccessedAt = resize(this.lastAccessedAt, (n) => new Float64Array(n));
    this.expiresAt = resize(this.expiresAt, (n) => new Float64Array(n));
    this.capacity = capacity;
  }
}

/** Higher score first; equal scores: the newer memory (ULIDs sort by creation). */
function ranksBefore(a: IndexHit, b: IndexHit): boolean {
  return a.score > b.score || (a.score === b.score && a.id > b.id);
}
