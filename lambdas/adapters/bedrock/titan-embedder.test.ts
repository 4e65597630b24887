import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { TITAN_EMBEDDING_MODEL_ID } from '../../composition/embedders';
import { ModelError } from '../../domain/runtime/model';
import { TitanEmbedder } from './titan-embedder';

const bedrock = mockClient(BedrockRuntimeClient);
const client = new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1 });

/** What Bedrock answers: a JSON body of bytes. */
const reply = (embedding: number[]) =>
  ({ body: new TextEncoder().encode(JSON.stringify({ embedding, inputTextTokenCount: 3 })) }) as never;
const unit = (n: number, at = 0) => Array.from({ length: n }, (_, i) => (i === at ? 1 : 0));

beforeEach(() => bedrock.reset());

describe('TitanEmbedder', () => {
  it('asks Titan V2 for normalised vectors of the configured dimension, one call per text, in order', async () => {
    bedrock.on(InvokeModelCommand).callsFake((input: { body: string }) => {
      const { inputText } = JSON.parse(input.body) as { inputText: string };
      return reply(unit(256, inputText === 'first' ? 0 : 1));
    });
    const embedder = new TitanEmbedder({ client, modelId: TITAN_EMBEDDING_MODEL_ID, dimensions: 256 });
    const vectors = await embedder.embed(['first', 'second']);

    const calls = bedrock.commandCalls(InvokeModelCommand);
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.args[0].input).toMatchObject({
        modelId: 'amazon.titan-embed-text-v2:0',
        contentType: 'application/json',
        accept: 'application/json',
      });
    }
    expect(calls.map((c) => JSON.parse(c.args[0].input.body as string))).toEqual([
      { inputText: 'first', dimensions: 256, normalize: true },
      { inputText: 'second', dimensions: 256, normalize: true },
    ]);
    expect(vectors.map((v) => Array.from(v).indexOf(1))).toEqual([0, 1]);
    expect(embedder.dimensions).toBe(256);
    expect(embedder.name).toBe(TITAN_EMBEDDING_MODEL_ID);
  });

  it('defaults to 512 dimensions and renormalises what it gets in float32', async () => {
    const raw = Array.from({ length: 512 }, (_, i) => (i % 2 === 0 ? 0.3 : -0.1));
    bedrock.on(InvokeModelCommand).resolves(reply(raw));
    const embedder = new TitanEmbedder({ client, modelId: TITAN_EMBEDDING_MODEL_ID });
    const [vector] = await embedder.embed(['x']);
    expect(vector).toBeInstanceOf(Float32Array);
    expect(vector).toHaveLength(512);
    expect(vector?.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 5);
    expect(
      JSON.parse(bedrock.commandCalls(InvokeModelCommand)[0]?.args[0].input.body as string).dimensions,
    ).toBe(512);
  });

  it('accepts only the dimensions Titan V2 offers', () => {
    expect(
      () => new TitanEmbedder({ client, modelId: TITAN_EMBEDDING_MODEL_ID, dimensions: 384 as never }),
    ).toThrow(/256, 512, 1024/);
  });

  it('refuses an answer of the wrong size or shape as a ModelError', async () => {
    const embedder = new TitanEmbedder({ client, modelId: TITAN_EMBEDDING_MODEL_ID, dimensions: 256 });
    bedrock.on(InvokeModelCommand).resolves(reply(unit(512)));
    await expect(embedder.embed(['x'])).rejects.toThrow(/expected 256 numbers in "embedding", got 512 items/);
    bedrock.on(InvokeModelCommand).resolves({ body: new TextEncoder().encode('not json') } as never);
    await expect(embedder.embed(['x'])).rejects.toBeInstanceOf(ModelError);
  });

  it('maps throttling to a retryable ModelError and bad input to a final one naming the problem', async () => {
    const embedder = new TitanEmbedder({ client, modelId: TITAN_EMBEDDING_MODEL_ID });
    bedrock
      .on(InvokeModelCommand)
      .rejects(new ThrottlingException({ message: 'Too many requests', $metadata: {} }));
    const throttled = await embedder.embed(['x']).catch((error: unknown) => error);
    expect(throttled).toBeInstanceOf(ModelError);
    expect(throttled).toMatchObject({
      statusCode: 502,
      provider: 'bedrock',
      retryable: true,
      causeName: 'ThrottlingException',
    });

    bedrock
      .on(InvokeModelCommand)
      .rejects(new ValidationException({ message: 'Input text too long', $metadata: {} }));
    const invalid = await embedder.embed(['x']).catch((error: unknown) => error);
    expect(invalid).toMatchObject({ retryable: false, causeName: 'ValidationException' });
    expect((invalid as Error).message).toContain('Input text too long');
  });

  it('never repeats the service message of an access failure (it names the account and role)', async () => {
    const embedder = new TitanEmbedder({ client, modelId: TITAN_EMBEDDING_MODEL_ID });
    const denied = Object.assign(
      new Error('User: arn:aws:sts::123456789012:assumed-role/x is not authorized'),
      {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      },
    );
    bedrock.on(InvokeModelCommand).rejects(denied);
    const error = await embedder.embed(['x']).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, causeName: 'AccessDeniedException' });
    expect((error as Error).message).not.toContain('123456789012');
    expect((error as Error).message).toMatch(/access to the embedding model is denied/);
  });

  it('treats an unknown 5xx as retryable', async () => {
    const embedder = new TitanEmbedder({ client, modelId: TITAN_EMBEDDING_MODEL_ID });
    bedrock
      .on(InvokeModelCommand)
      .rejects(
        Object.assign(new Error('boom'), { name: 'SomethingNew', $metadata: { httpStatusCode: 503 } }),
      );
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ retryable: true });
  });
});
