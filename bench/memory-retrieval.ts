import { HashEmbedder } from '../lambdas/adapters/local/hash-embedder';
import { loadEmbedderConfig } from '../lambdas/composition/embedders';
import { MEMORY_TYPES } from '../lambdas/domain/memory/schemas';
import { MemoryIndex } from '../lambdas/domain/memory/vector-index';
import { encodeVector } from '../lambdas/domain/memory/vectors';
import { heading, ms, p50p99, table, verdict } from './report';
import { round, type Summary, summarize } from './stats';

export const MEMORY_P50_TARGET_MS = 25;

export interface MemoryRetrievalOptions {
  readonly memories?: number;
  readonly dimensions?: number;
  readonly k?: number;
  readonly queries?: number;
  readonly warmup?: number;
  readonly progress?: (message: string) => void;
}

export interface MemoryRetrievalResult {
  readonly memories: number;
  readonly dimensions: number;
  readonly k: number;
  readonly queries: number;
  /** Building the index from the stored items' bytes (what a cold process adds to its Query pages), JIT cold… */
  readonly firstBuildMs: number;
  /** …and warm (median of four more). */
  readonly buildMs: number;
  readonly indexMb: number;
  /** Top-k over every memory, query already embedded: the figure the target is about. */
  readonly searchMs: Summary;
  /** Same, filtered to two types and one customer plus the unassigned memories (the runtime's search). */
  readonly filteredSearchMs: Summary;
  /** Embedding the query with the offline hash embedder, shown apart (Titan is a network call). */
  readonly embedQueryMs: Summary;
  readonly targetMs: number;
  readonly pass: boolean;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run scores the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function sentenceMaker(random: () => number) {
  const syllables = [
    'ka',
    'lo',
    'mi',
    'ren',
    'tu',
    'sa',
    'vel',
    'dor',
    'pi',
    'nax',
    'qu',
    'ert',
    'yo',
    'zam',
  ];
  const vocabulary = Array.from({ length: 3000 }, () => {
    const n = 2 + Math.floor(random() * 3);
    return Array.from({ length: n }, () => syllables[Math.floor(random() * syllables.length)]).join('');
  });
  return (words: number) =>
    Array.from({ length: words }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ');
}

const time = (work: () => void): number => {
  const started = performance.now();
  work();
  return performance.now() - started;
};

/**
 * Top-k memory retrieval over an agent with `memories` memories, in process: the in-memory
 * index a warm Lambda searches after its one GetItem of the generation counter. Vectors come
 * from the hash embedder over synthetic sentences; search cost does not depend on what the
 * vectors mean, only on their number and dimension.
 */
export function measureMemoryRetrieval(options: MemoryRetrievalOptions = {}): MemoryRetrievalResult {
  const memories = options.memories ?? 10_000;
  const dimensions = options.dimensions ?? loadEmbedderConfig().EMBEDDING_DIMENSIONS;
  const k = options.k ?? 5;
  const queries = options.queries ?? 300;
  const warmup = options.warmup ?? 30;
  const progress = options.progress ?? (() => undefined);
  const random = prng(42);
  const sentence = sentenceMaker(random);
  const embedder = new HashEmbedder(dimensions);
  const now = Date.now();

  progress(`memory retrieval: embedding ${memories} synthetic memories at ${dimensions} dimensions…`);
  const customers = Array.from({ length: 100 }, (_, i) => `cus_${String(i).padStart(26, '0')}`);
  const stored = Array.from({ length: memories }, (_, i) => ({
    meta: {
      id: `mem_${String(i).padStart(26, '0')}`,
      type: MEMORY_TYPES[Math.floor(random() * MEMORY_TYPES.length)] ?? 'semantic',
      importance: random(),
      accessCount: Math.floor(random() * 20),
      createdAtMs: now - random() * 365 * 86_400_000,
      ...(random() < 0.5 ? { lastAccessedAtMs: now - random() * 30 * 86_400_000 } : {}),
      expiresAt: now / 1000 + 365 * 86_400,
      ...(random() < 0.7 ? { customerId: customers[Math.floor(random() * customers.length)] } : {}),
    },
    bytes: encodeVector(embedder.embedSync(sentence(8 + Math.floor(random() * 24)))),
  }));

  progress('memory retrieval: building the index from stored bytes…');
  let index = new MemoryIndex(dimensions);
  const builds = Array.from({ length: 5 }, () =>
    time(() => {
      index = new MemoryIndex(dimensions, 256);
      for (const { meta, bytes } of stored) index.upsert(meta, bytes);
      index.trim();
    }),
  );

  const texts = Array.from({ length: queries + warmup }, () => sentence(6 + Math.floor(random() * 10)));
  const embedSamples: number[] = [];
  const vectors = texts.map((text, i) => {
    let vector: Float32Array = new Float32Array(0);
    const sample = time(() => {
      vector = embedder.embedSync(text);
    });
    if (i >= warmup) embedSamples.push(sample);
    return vector;
  });

  progress(`memory retrieval: ${queries} top-${k} searches, plain and filtered…`);
  const filter = {
    types: ['social', 'episodic'] as const,
    customerId: customers[7] as string,
    includeUnassigned: true,
  };
  const plain: number[] = [];
  const filtered: number[] = [];
  for (const [i, vector] of vectors.entries()) {
    // Interleaved, so a slow stretch of the machine hits both series alike.
    const a = time(() => index.search(vector, { k, nowMs: now }));
    const b = time(() => index.search(vector, { k, nowMs: now, filter }));
    if (i >= warmup) {
      plain.push(a);
      filtered.push(b);
    }
  }
  const searchMs = summarize(plain);
  return {
    memories,
    dimensions,
    k,
    queries,
    firstBuildMs: round(builds[0] ?? Number.NaN, 1),
    buildMs: round(summarize(builds.slice(1)).p50, 1),
    indexMb: round(index.byteSize / 1024 / 1024, 1),
    searchMs,
    filteredSearchMs: summarize(filtered),
    embedQueryMs: summarize(embedSamples),
    targetMs: MEMORY_P50_TARGET_MS,
    pass: searchMs.p50 <= MEMORY_P50_TARGET_MS,
  };
}

export function printMemoryRetrieval(result: MemoryRetrievalResult): void {
  console.log(
    heading(
      `Memory retrieval: top-${result.k} of ${result.memories.toLocaleString('en-US')} memories × ${result.dimensions} dimensions, in-memory index (${result.queries} queries)`,
    ),
  );
  console.log(
    table(
      ['Step', 'p50 ms', 'p99 ms', 'Target', 'Result'],
      [
        [
          `search top-${result.k} (query embedded)`,
          ...p50p99(result.searchMs),
          `≤ ${result.targetMs} ms p50`,
          verdict(result.pass),
        ],
        ['search, filtered (2 types, 1 customer + unassigned)', ...p50p99(result.filteredSearchMs), '-', '-'],
        ['embed the query (hash embedder)', ...p50p99(result.embedQueryMs), '-', '-'],
      ],
    ),
  );
  console.log(
    `Index: ${result.indexMb} MB, built from the stored float32 bytes in ${ms(result.firstBuildMs)} ms the first time, ${ms(result.buildMs)} ms warm (what a cold process adds to its Query pages).`,
  );
}

if (require.main === module) {
  printMemoryRetrieval(measureMemoryRetrieval({ progress: (m) => process.stderr.write(`[bench] ${m}\n`) }));
}
