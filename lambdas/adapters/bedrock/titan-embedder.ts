import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { normalize } from '../../domain/memory/vectors';
import { type Embedder, ModelError } from '../../domain/runtime/model';

export const TITAN_DIMENSIONS = [256, 512, 1024] as const;
export type TitanDimensions = (typeof TITAN_DIMENSIONS)[number];

export interface TitanEmbedderOptions {
  /** Retries on throttling and 5xx are this client's (the SDK's standard retry mode). */
  readonly client: BedrockRuntimeClient;
  /** `amazon.titan-embed-text-v2:0` (the only Titan model that takes `dimensions`). */
  readonly modelId: string;
  readonly dimensions?: TitanDimensions;
  /** Texts embedded at once (Titan takes one text per call). */
  readonly concurrency?: number;
}

/** Bedrock's failures that a later attempt may get past. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'TimeoutError',
]);

/** Said instead of the service's own message, which can name the account and role. */
const EXPLAINED: Record<string, string> = {
  AccessDeniedException: 'access to the embedding model is denied (model access or IAM)',
  ResourceNotFoundException: 'the embedding model does not exist in this region',
  ThrottlingException: 'throttled by Bedrock',
  ServiceQuotaExceededException: 'a Bedrock quota is exhausted',
  ModelTimeoutException: 'the embedding model timed out',
};

function toModelError(modelId: string, error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const retryable = RETRYABLE.has(name) || (status !== undefined && status >= 500);
  // A validation message is about our input (too long, bad dimensions): worth passing on.
  const why =
    EXPLAINED[name] ??
    (name === 'ValidationException' && error instanceof Error ? error.message : `failed with ${name}`);
  return new ModelError('bedrock', `${modelId}: ${why}`, retryable, name);
}

/**
 * Amazon Titan Text Embeddings V2 through InvokeModel: one call per text, asking for
 * `dimensions` floats normalised by the model (normalised once more here, in float32, so that
 * the dot product stays a cosine whatever the rounding).
 */
export class TitanEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: TitanDimensions;
  private readonly client: BedrockRuntimeClient;
  private readonly modelId: string;
  private readonly concurrency: number;

  constructor(options: TitanEmbedderOptions) {
    this.client = options.client;
    this.modelId = options.modelId;
    this.dimensions = options.dimensions ?? 512;
    if (!TITAN_DIMENSIONS.includes(this.dimensions)) {
      throw new Error(
        `Titan embeddings come in ${TITAN_DIMENSIONS.join(', ')} dimensions, not ${this.dimensions}`,
      );
    }
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.name = this.modelId;
  }

  /** With a client of its own (the SDK's standard retries) in `region`. */
  static inRegion(region: string, options: Omit<TitanEmbedderOptions, 'client'>): TitanEmbedder {
    return new TitanEmbedder({ ...options, client: new BedrockRuntimeClient({ region }) });
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = new Array(texts.length);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const i = next++;
        vectors[i] = await this.embedOne(texts[i] as string);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, texts.length) }, worker));
    return vectors;
  }

  private async embedOne(text: string): Promise<Float32Array> {
    let body: Uint8Array;
    try {
      const response = await this.client.send(
        new InvokeModelCommand({
          modelId: this.modelId,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify({ inputText: text, dimensions: this.dimensions, normalize: true }),
        }),
      );
      body = response.body;
    } catch (error) {
      throw toModelError(this.modelId, error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new ModelError('bedrock', `${this.modelId}: returned a body that is not JSON`, false);
    }
    const embedding = (parsed as { embedding?: unknown }).embedding;
    if (
      !Array.isArray(embedding) ||
      embedding.length !== this.dimensions ||
      !embedding.every((value) => typeof value === 'number' && Number.isFinite(value))
    ) {
      throw new ModelError(
        'bedrock',
        `${this.modelId}: expected ${this.dimensions} numbers in "embedding", got ${Array.isArray(embedding) ? `${embedding.length} items` : typeof embedding}`,
        false,
      );
    }
    return normalize(Float32Array.from(embedding as number[]));
  }
}
