import { HashEmbedder } from '../../adapters/local/hash-embedder';
import type { MemoryType } from './schemas';
import { type IndexedMemory, MemoryIndex } from './vector-index';
import { decodeVector, encodeVector, normalize } from './vectors';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const embedder = new HashEmbedder(256);
let seq = 0;

function entry(overrides: Partial<IndexedMemory> = {}): IndexedMemory {
  seq++;
  return {
    id: `mem_${String(seq).padStart(26, '0')}`,
    type: 'semantic',
    importance: 0.5,
    accessCount: 0,
    createdAtMs: NOW - DAY,
    expiresAt: NOW / 1000 + 365 * 86_400,
    ...overrides,
  };
}

function indexOf(texts: Record<string, Partial<IndexedMemory>>): {
  index: MemoryIndex;
  ids: Record<string, string>;
} {
  const index = new MemoryIndex(256, 2);
  const ids: Record<string, string> = {};
  for (const [text, overrides] of Object.entries(texts)) {
    const e = entry(overrides);
    ids[text] = e.id;
    index.upsert(e, embedder.embedSync(text));
  }
  return { index, ids };
}

describe('MemoryIndex', () => {
  it('ranks by cosine similarity and returns at most k', () => {
    const { index, ids } = indexOf({
      'The customer prefers morning appointments on Tuesdays': {},
      'Refunds need the original receipt': {},
      'The customer is allergic to penicillin': {},
      'Parking is behind the building': {},
    });
    const hits = index.search(embedder.embedSync('when does the customer like appointments?'), {
      k: 2,
      nowMs: NOW,
    });
    expect(hits).toHaveLength(2);
    expect(hits[0]?.id).toBe(ids['The customer prefers morning appointments on Tuesdays']);
    expect(hits[0]?.similarity).toBeGreaterThan(hits[1]?.similarity ?? 1);
    for (const hit of hits) expect(hit.score).toBeCloseTo(hit.similarity + 0.1 * hit.effectiveImportance, 10);
  });

  it('computes the same similarity as a plain dot product of unit vectors', () => {
    const { index } = indexOf({ 'alpha beta gamma delta': {} });
    const query = embedder.embedSync('beta gamma epsilon');
    const stored = embedder.embedSync('alpha beta gamma delta');
    const dot = stored.reduce((sum, v, i) => sum + v * (query[i] ?? 0), 0);
    expect(index.search(query, { k: 1, nowMs: NOW })[0]?.similarity).toBeCloseTo(dot, 5);
  });

  it('filters by type, customer, creation window, minimum similarity and expiry', () => {
    const { index, ids } = indexOf({
      'booked a cleaning for Ana': { type: 'episodic', customerId: 'cus_A', createdAtMs: NOW - 10 * DAY },
      'Ana likes cleaning appointments early': {
        type: 'social',
        customerId: 'cus_A',
        createdAtMs: NOW - 2 * DAY,
      },
      'Ben booked a cleaning': { type: 'episodic', customerId: 'cus_B', createdAtMs: NOW - 2 * DAY },
      'cleaning takes forty minutes': { type: 'procedural', createdAtMs: NOW - 2 * DAY },
      'expired cleaning note': { type: 'episodic', expiresAt: NOW / 1000 - 1 },
    });
    const query = embedder.embedSync('cleaning');
    const search = (filter: Parameters<MemoryIndex['search']>[1]['filter']) =>
      index
        .search(query, { k: 10, nowMs: NOW, ...(filter ? { filter } : {}) })
        .map((h) => h.id)
        .sort();

    expect(search(undefined)).not.toContain(ids['expired cleaning note']);
    expect(search(undefined)).toHaveLength(4);
    expect(search({ types: ['episodic'] })).toEqual(
      [ids['booked a cleaning for Ana'], ids['Ben booked a cleaning']].sort(),
    );
    expect(search({ customerId: 'cus_A' })).toEqual(
      [ids['booked a cleaning for Ana'], ids['Ana likes cleaning appointments early']].sort(),
    );
    expect(search({ customerId: 'cus_A', includeUnassigned: true })).toEqual(
      [
        ids['booked a cleaning for Ana'],
        ids['Ana likes cleaning appointments early'],
        ids['cleaning takes forty minutes'],
      ].sort(),
    );
    expect(search({ customerId: null })).toEqual([ids['cleaning takes forty minutes']]);
    expect(search({ createdAfterMs: NOW - 5 * DAY, types: ['episodic', 'social'] })).toEqual(
      [ids['Ana likes cleaning appointments early'], ids['Ben booked a cleaning']].sort(),
    );
    expect(search({ createdBeforeMs: NOW - 5 * DAY })).toEqual([ids['booked a cleaning for Ana']]);
    const strict = index.search(query, { k: 10, nowMs: NOW, filter: { minSimilarity: 0.5 } });
    expect(strict.length).toBeGreaterThan(0);
    expect(strict.every((h) => h.similarity >= 0.5)).toBe(true);
    expect(strict.length).toBeLessThan(4);
  });

  it('breaks ties in similarity by effective importance, then by the newer id', () => {
    const index = new MemoryIndex(256);
    const vector = embedder.embedSync('same words');
    const low = entry({ importance: 0.1 });
    const high = entry({ importance: 0.9 });
    const older = entry({ importance: 0.5 });
    const newer = entry({ importance: 0.5, createdAtMs: older.createdAtMs });
    for (const e of [low, high, older, newer]) index.upsert(e, vector);
    expect(index.search(vector, { k: 4, nowMs: NOW }).map((h) => h.id)).toEqual([
      high.id,
      newer.id,
      older.id,
      low.id,
    ]);
  });

  it('keeps the best k whatever the order rows come in', () => {
    const index = new MemoryIndex(8, 1);
    const query = normalize(Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]));
    const sims: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = Math.cos((((i * 37) % 200) / 200) * Math.PI);
      sims.push(s);
      const v = Float32Array.from([s, Math.sqrt(Math.max(0, 1 - s * s)), 0, 0, 0, 0, 0, 0]);
      index.upsert(entry({ importance: 0 }), v);
    }
    const hits = index.search(query, { k: 7, nowMs: NOW });
    const expected = [...sims].sort((a, b) => b - a).slice(0, 7);
    expect(hits).toHaveLength(7);
    for (const [i, hit] of hits.entries()) expect(hit.similarity).toBeCloseTo(expected[i] ?? Number.NaN, 5);
  });

  it('replaces, patches, removes and notes recalls in place', () => {
    const { index, ids } = indexOf({ 'dogs bark': {}, 'cats purr': {}, 'birds sing': {} });
    const dogs = ids['dogs bark'] as string;
    const cats = ids['cats purr'] as string;
    expect(index.size).toBe(3);
    index.patch(dogs, { type: 'episodic' as MemoryType }, embedder.embedSync('fish swim'));
    expect(index.search(embedder.embedSync('fish swim'), { k: 1, nowMs: NOW })[0]?.id).toBe(dogs);
    expect(
      index.search(embedder.embedSync('fish'), { k: 3, nowMs: NOW, filter: { types: ['semantic'] } }),
    ).toHaveLength(2);
    expect(index.remove(dogs)).toBe(true);
    expect(index.remove(dogs)).toBe(false);
    expect(index.size).toBe(2);
    expect(index.has(cats)).toBe(true);
    // The row moved into the hole still answers for its own id.
    expect(index.search(embedder.embedSync('cats purr'), { k: 1, nowMs: NOW })[0]?.id).toBe(cats);
    const before =
      index.search(embedder.embedSync('cats purr'), { k: 1, nowMs: NOW })[0]?.effectiveImportance ?? 0;
    index.noteAccess(cats, 5, NOW);
    const after =
      index.search(embedder.embedSync('cats purr'), { k: 1, nowMs: NOW })[0]?.effectiveImportance ?? 0;
    expect(after).toBeGreaterThan(before);
  });

  it('gives back unused room and grows again after a trim', () => {
    const { index, ids } = indexOf({ 'one fish': {}, 'two fish': {}, 'red fish': {} });
    const roomy = index.byteSize;
    index.trim();
    expect(index.byteSize).toBeLessThan(roomy);
    index.upsert(entry(), embedder.embedSync('blue fish'));
    expect(index.size).toBe(4);
    expect(index.search(embedder.embedSync('red fish'), { k: 1, nowMs: NOW })[0]?.id).toBe(ids['red fish']);
  });

  it('refuses vectors and queries of another dimension', () => {
    const index = new MemoryIndex(256);
    expect(() => index.upsert(entry(), new Float32Array(128))).toThrow(/dimensions/);
    expect(() => index.search(new Float32Array(128), { k: 1, nowMs: NOW })).toThrow(/dimensions/);
  });

  it('takes stored bytes as well as vectors', () => {
    const index = new MemoryIndex(256);
    const vector = embedder.embedSync('stored as bytes');
    const bytes = encodeVector(vector);
    expect(bytes.byteLength).toBe(256 * 4);
    expect(decodeVector(bytes)).toEqual(vector);
    const e = entry();
    index.upsert(e, bytes);
    expect(index.search(vector, { k: 1, nowMs: NOW })[0]?.similarity).toBeCloseTo(1, 5);
  });
});
