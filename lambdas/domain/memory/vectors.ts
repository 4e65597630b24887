/**
 * Vector helpers shared by the embedders, the index and the storage codec. Every vector the
 * platform keeps is L2-normalised, so cosine similarity is a plain dot product.
 */

/** Scales `vector` in place to unit length; a zero vector stays zero. Returns it. */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] ?? 0) ** 2;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}

/** Dot product of `query` with the `dimensions` floats of `matrix` starting at `offset`. */
export function dotAt(matrix: Float32Array, offset: number, query: Float32Array, dimensions: number): number {
  // Four accumulators: independent additions the CPU can overlap; ~2× faster than one.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  const end4 = dimensions - (dimensions % 4);
  for (; j < end4; j += 4) {
    const o = offset + j;
    s0 += (matrix[o] as number) * (query[j] as number);
    s1 += (matrix[o + 1] as number) * (query[j + 1] as number);
    s2 += (matrix[o + 2] as number) * (query[j + 2] as number);
    s3 += (matrix[o + 3] as number) * (query[j + 3] as number);
  }
  for (; j < dimensions; j++) s0 += (matrix[offset + j] as number) * (query[j] as number);
  return s0 + s1 + s2 + s3;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A vector as stored: IEEE-754 float32, little-endian, 4 bytes a dimension (2 KiB at 512
 * dimensions, against ~5 KiB as a DynamoDB number list and 2.7 KiB as base64), copied straight
 * into the index's matrix on load.
 */
export function encodeVector(vector: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN)
    return new Uint8Array(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i] ?? 0, true);
  return bytes;
}

/** Writes a stored vector into `target` at `offset` (in floats). */
export function decodeVectorInto(bytes: Uint8Array, target: Float32Array, offset: number): void {
  const count = bytes.byteLength / 4;
  if (LITTLE_ENDIAN) {
    new Uint8Array(target.buffer, target.byteOffset + offset * 4, bytes.byteLength).set(bytes);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) target[offset + i] = view.getFloat32(i * 4, true);
}

export function decodeVector(bytes: Uint8Array): Float32Array {
  const vector = new Float32Array(bytes.byteLength / 4);
  decodeVectorInto(bytes, vector, 0);
  return vector;
}
