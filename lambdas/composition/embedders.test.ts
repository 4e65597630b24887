import { TitanEmbedder } from '../adapters/bedrock/titan-embedder';
import { HashEmbedder } from '../adapters/local/hash-embedder';
import { createEmbedder, loadEmbedderConfig, TITAN_EMBEDDING_MODEL_ID } from './embedders';

describe('embedder factory', () => {
  it('defaults to Titan V2 at 512 dimensions', () => {
    const config = loadEmbedderConfig({});
    expect(config).toMatchObject({ EMBEDDER: 'titan', EMBEDDING_DIMENSIONS: 512 });
    const embedder = createEmbedder(config);
    expect(embedder).toBeInstanceOf(TitanEmbedder);
    expect(embedder).toMatchObject({ name: TITAN_EMBEDDING_MODEL_ID, dimensions: 512 });
  });

  it('builds the offline hash embedder at the configured dimension', () => {
    const embedder = createEmbedder(loadEmbedderConfig({ EMBEDDER: 'hash', EMBEDDING_DIMENSIONS: '1024' }));
    expect(embedder).toBeInstanceOf(HashEmbedder);
    expect(embedder.dimensions).toBe(1024);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadEmbedderConfig({ EMBEDDER: 'word2vec' })).toThrow(/EMBEDDER/);
    expect(() => loadEmbedderConfig({ EMBEDDING_DIMENSIONS: '300' })).toThrow(
      /EMBEDDING_DIMENSIONS: must be 256, 512 or 1024/,
    );
  });
});
