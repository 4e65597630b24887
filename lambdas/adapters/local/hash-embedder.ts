import { normalize } from '../../domain/memory/vectors';
import type { Embedder } from '../../domain/runtime/model';

/**
 * Words too common to say anything about what a text is about; left out so that two unrelated
 * sentences do not look alike for sharing "the" and "is".
 */
const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her his i if in into ' +
    'is it its me my no not of on or our she so than that the their them then there these they this to ' +
    'us was we were what when where which who will with would you your'
  ).split(' '),
);

/** Crude plural folding ("appointments" → "appointment"), the same on both sides of a comparison. */
function fold(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

export function tokensOf(text: string): string[] {
  const words =
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((word) => !STOP_WORDS.has(word)).map(fold);
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so that every output bit depends on every input bit. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const BIGRAM_WEIGHT = 0.5;

/**
 * A deterministic, offline stand-in for a real embedding model, for local mode and tests. It
 * is NOT a language model and captures no meaning: it hashes a text's lower-cased content words
 * (unigrams, weight 1) and adjacent word pairs (bigrams, weight 0.5) into `dimensions` signed
 * buckets (feature hashing) and L2-normalises the result. Texts sharing words score high;
 * synonyms ("car" and "automobile") score as unrelated. Same text, same vector, on every machine.
 * Any change to the features or the hash must change `name`: stored vectors are compared only
 * with vectors of the same name.
 */
export class HashEmbedder implements Embedder {
  readonly name = 'hash-v1';

  constructor(readonly dimensions = 512) {
    if (!Number.isInteger(dimensions) || dimensions < 8) throw new Error(`bad dimensions ${dimensions}`);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => this.embedSync(text));
  }

  embedSync(text: string): Float32Array {
    const vector = new Float32Array(this.dimensions);
    const add = (feature: string, weight: number) => {
      const h = hash32(feature);
      // The sign keeps colliding features from only ever adding up (an unbiased estimate of the dot product).
      vector[h % this.dimensions] = (vector[h % this.dimensions] ?? 0) + (h & 0x80000000 ? -weight : weight);
    };
    const tokens = tokensOf(text);
    // A text of stop words and punctuation only still gets a unit vector, equal only to its own kind.
    if (tokens.length === 0) add(`\u0000${text.trim().toLowerCase()}`, 1);
    for (let i = 0; i < tokens.length; i++) {
      add(tokens[i] as string, 1);
      if (i > 0) add(`${tokens[i - 1]} ${tokens[i]}`, BIGRAM_WEIGHT);
    }
    return normalize(vector);
  }
}
