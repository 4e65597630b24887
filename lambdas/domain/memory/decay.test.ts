import { ACCESS_BOOST, effectiveImportance, HALF_LIFE_DAYS, IMPORTANCE_WEIGHT, rankScore } from './decay';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

describe('effectiveImportance', () => {
  const base = { type: 'episodic' as const, importance: 0.8, accessCount: 0, createdAtMs: NOW };

  it('is the stored importance for a memory made just now and never recalled', () => {
    expect(effectiveImportance(base, NOW)).toBeCloseTo(0.8, 10);
  });

  it('halves for every half-life of its type spent idle', () => {
    const aged = { ...base, createdAtMs: NOW - HALF_LIFE_DAYS.episodic * DAY };
    expect(effectiveImportance(aged, NOW)).toBeCloseTo(0.4, 10);
    const twice = { ...base, createdAtMs: NOW - 2 * HALF_LIFE_DAYS.episodic * DAY };
    expect(effectiveImportance(twice, NOW)).toBeCloseTo(0.2, 10);
  });

  it('fades episodes faster than social facts, facts and procedures', () => {
    const at = (type: 'episodic' | 'social' | 'semantic' | 'procedural') =>
      effectiveImportance({ ...base, type, createdAtMs: NOW - 60 * DAY }, NOW);
    expect(at('episodic')).toBeLessThan(at('social'));
    expect(at('social')).toBeLessThan(at('semantic'));
    expect(at('semantic')).toBeLessThan(at('procedural'));
  });

  it('counts idleness from the last recall, not from creation', () => {
    const old = NOW - 300 * DAY;
    const recalled = { ...base, createdAtMs: old, lastAccessedAtMs: NOW - HALF_LIFE_DAYS.episodic * DAY };
    expect(effectiveImportance(recalled, NOW)).toBeCloseTo(0.4 * (1 + ACCESS_BOOST * Math.log1p(0)), 10);
    expect(effectiveImportance({ ...recalled, lastAccessedAtMs: Number.NaN }, NOW)).toBeLessThan(0.01);
  });

  it('is boosted by recalls, logarithmically, and capped at 1', () => {
    const once = effectiveImportance({ ...base, accessCount: 1 }, NOW);
    const ten = effectiveImportance({ ...base, accessCount: 10 }, NOW);
    expect(once).toBeCloseTo(0.8 * (1 + ACCESS_BOOST * Math.log(2)), 10);
    expect(ten).toBeGreaterThan(once);
    expect(effectiveImportance({ ...base, importance: 1, accessCount: 1000 }, NOW)).toBe(1);
  });

  it('never grows from a creation time in the future (clock skew)', () => {
    expect(effectiveImportance({ ...base, createdAtMs: NOW + 5 * DAY }, NOW)).toBeCloseTo(0.8, 10);
  });

  it('is zero for an unimportant memory whatever else holds', () => {
    expect(effectiveImportance({ ...base, importance: 0, accessCount: 50 }, NOW)).toBe(0);
  });
});

describe('rankScore', () => {
  it('lets importance break near-ties but not beat a clearly better match', () => {
    expect(rankScore(0.5, 1)).toBeGreaterThan(rankScore(0.5, 0));
    expect(rankScore(0.5, 0)).toBeGreaterThan(rankScore(0.5 - IMPORTANCE_WEIGHT - 0.01, 1));
  });
});
