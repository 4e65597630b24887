import { HashEmbedder, tokensOf } from './hash-embedder';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * (b[i] ?? 0), 0);

describe('HashEmbedder', () => {
  const embedder = new HashEmbedder(512);

  it('is deterministic: same text, same vector, across instances', async () => {
    const [a] = await embedder.embed(['Book a cleaning for next Tuesday']);
    const [b] = await new HashEmbedder(512).embed(['Book a cleaning for next Tuesday']);
    expect(a).toEqual(b);
    expect(Array.from(a ?? []).slice(0, 3)).toEqual(Array.from(b ?? []).slice(0, 3));
  });

  it('returns unit vectors of the configured dimension, even for text without words', async () => {
    const vectors = await embedder.embed(['Hello there, general Kenobi', 'the and of', '?!', '']);
    for (const vector of vectors) {
      expect(vector).toHaveLength(512);
      expect(dot(vector, vector)).toBeCloseTo(1, 5);
    }
    expect(new HashEmbedder(256).embedSync('x')).toHaveLength(256);
  });

  it('scores texts that share words above unrelated ones', () => {
    const query = embedder.embedSync('Does the customer prefer morning appointments?');
    const similar = embedder.embedSync('The customer prefers appointments in the morning');
    const unrelated = embedder.embedSync('Refunds require the original receipt within 30 days');
    expect(dot(query, similar)).toBeGreaterThan(0.5);
    expect(Math.abs(dot(query, unrelated))).toBeLessThan(0.2);
    expect(dot(query, similar)).toBeGreaterThan(dot(query, unrelated) + 0.3);
  });

  it('ignores case, punctuation and plural endings; keeps word order through bigrams', () => {
    expect(embedder.embedSync('APPOINTMENTS, please!')).toEqual(embedder.embedSync('appointment please'));
    const forward = embedder.embedSync('dog bites man');
    const backward = embedder.embedSync('man bites dog');
    expect(dot(forward, backward)).toBeLessThan(0.999);
    expect(dot(forward, backward)).toBeGreaterThan(0.5);
  });

  it('tokenizes non-English letters too', () => {
    expect(tokensOf('Café crème — 12 ÉCLAIRS')).toEqual(['café', 'crème', '12', 'éclair']);
  });

  it('refuses a silly dimension', () => {
    expect(() => new HashEmbedder(0)).toThrow();
  });
});
