/**
 * Bedrock ConverseStream through the real SDK: the stand-in below answers at the HTTP layer with
 * the binary event stream (application/vnd.amazon.eventstream) the service sends, which the
 * client decodes into the events the adapter reads: nothing about the SDK's side is mocked.
 */
import { Readable } from 'node:stream';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { ModelError, type ModelMessage, type ModelRequest } from '../../domain/runtime/model';
import { BedrockConverseModel } from './converse-model';

const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const codec = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);
const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

type Frame = Uint8Array;
const event = (type: string, body: object): Frame =>
  codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: utf8(body),
  });
const exception = (type: string, message: string): Frame =>
  codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'exception' },
      ':exception-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: utf8({ message }),
  });

interface StandInReply {
  readonly status: number;
  readonly frames?: readonly Frame[];
  readonly errorType?: string;
}

let replies: StandInReply[];
let paths: string[];
let sleeps: number[];

/** Answers each request with the next reply: frames one by one, or an error response. */
function client() {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { path: string }) => {
        paths.push(request.path);
        const reply = replies.shift() ?? { status: 500, errorType: 'InternalServerException' };
        if (reply.errorType) {
          return {
            response: {
              statusCode: reply.status,
              headers: { 'content-type': 'application/json', 'x-amzn-errortype': reply.errorType },
              body: Readable.from([Buffer.from(JSON.stringify({ message: 'stand-in refusal' }))]),
            },
          };
        }
        return {
          response: {
            statusCode: reply.status,
            headers: { 'content-type': 'application/vnd.amazon.eventstream' },
            body: Readable.from((reply.frames ?? []).map((frame) => Buffer.from(frame))),
          },
        };
      },
    } as never,
  });
}

const model = () =>
  new BedrockConverseModel(client(), {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });

const TOOLS = [
  {
    name: 'calculator',
    description: 'Evaluate an arithmetic expression.',
    inputSchema: { type: 'object', properties: { expression: { type: 'string' } } },
  },
];
const request = (overrides: Partial<ModelRequest> = {}): ModelRequest => ({
  modelId: MODEL_ID,
  system: 'You are the assistant of Acme Dental.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What is 12*(3+4)?' }] }] as ModelMessage[],
  tools: TOOLS,
  temperature: 0.2,
  maxTokens: 512,
  topP: 0.9,
  ...overrides,
});

/** A reply with text, then a tool use whose input arrives in pieces, as Claude streams it. */
const TOOL_USE_STREAM = [
  event('messageStart', { role: 'assistant' }),
  event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: "I'll work" } }),
  event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ' that out.' } }),
  event('contentBlockStop', { contentBlockIndex: 0 }),
  event('contentBlockStart', {
    contentBlockIndex: 1,
    start: { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'calculator' } },
  }),
  event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"expression"' } } }),
  event('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: ': "12*(3+4)"}' } } }),
  event('contentBlockStop', { contentBlockIndex: 1 }),
  event('messageStop', { stopReason: 'tool_use' }),
  event('metadata', {
    usage: { inputTokens: 412, outputTokens: 61, totalTokens: 473 },
    metrics: { latencyMs: 1184 },
  }),
];

const TEXT_STREAM = [
  event('messageStart', { role: 'assistant' }),
  event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: '12 × (3 + 4)' } }),
  event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ' is 84.' } }),
  event('contentBlockStop', { contentBlockIndex: 0 }),
  event('messageStop', { stopReason: 'end_turn' }),
  event('metadata', {
    usage: { inputTokens: 497, outputTokens: 14, totalTokens: 511 },
    metrics: { latencyMs: 602 },
  }),
];

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

beforeEach(() => {
  replies = [];
  paths = [];
  sleeps = [];
});

describe('BedrockConverseModel.converseStream', () => {
  it('passes text on as it streams and assembles the tool use; usage and latency from metadata', async () => {
    replies.push({ status: 200, frames: TOOL_USE_STREAM });
    const deltas: string[] = [];
    const response = await model().converseStream(request(), (text) => deltas.push(text));
    expect(paths).toEqual([`/model/${encodeURIComponent(MODEL_ID)}/converse-stream`]);
    expect(deltas).toEqual(["I'll work", ' that out.']);
    expect(response).toEqual({
      content: [
        { type: 'text', text: "I'll work that out." },
        {
          type: 'toolUse',
          id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
          name: 'calculator',
          input: { expression: '12*(3+4)' },
        },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 412, outputTokens: 61 },
      latencyMs: 1184,
    });
  });

  it('ends a plain reply with end_turn', async () => {
    replies.push({ status: 200, frames: TEXT_STREAM });
    const deltas: string[] = [];
    const response = await model().converseStream(request({ tools: [] }), (text) => deltas.push(text));
    expect(deltas.join('')).toBe('12 × (3 + 4) is 84.');
    expect(response).toMatchObject({
      content: [{ type: 'text', text: '12 × (3 + 4) is 84.' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 497, outputTokens: 14 },
    });
  });

  it('retries throttling before anything streamed, then passes each piece on once', async () => {
    replies.push({ status: 429, errorType: 'ThrottlingException' }, { status: 200, frames: TEXT_STREAM });
    const deltas: string[] = [];
    await model().converseStream(request({ tools: [] }), (text) => deltas.push(text));
    expect(paths).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(deltas.join('')).toBe('12 × (3 + 4) is 84.');
  });

  it('fails a stream that breaks off after text was passed on, without trying again', async () => {
    replies.push(
      {
        status: 200,
        frames: [
          event('messageStart', { role: 'assistant' }),
          event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: '12 × ' } }),
          exception('modelStreamErrorException', 'The model stream failed'),
        ],
      },
      { status: 200, frames: TEXT_STREAM },
    );
    const deltas: string[] = [];
    const failure = await failureOf(model().converseStream(request(), (text) => deltas.push(text)));
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).message).toContain('ModelStreamErrorException');
    expect((failure as ModelError).message).not.toContain('The model stream failed');
    expect(deltas).toEqual(['12 × ']);
    expect(paths).toHaveLength(1);
  });

  it('fails a stream that ends before its stop reason, and a tool input that is not JSON', async () => {
    replies.push({ status: 200, frames: TOOL_USE_STREAM.slice(0, 4) });
    const cut = await failureOf(model().converseStream(request(), () => undefined));
    expect((cut as ModelError).message).toContain('the stream ended before the reply did');

    replies.push({
      status: 200,
      frames: [
        event('contentBlockStart', {
          contentBlockIndex: 0,
          start: { toolUse: { toolUseId: 't1', name: 'calculator' } },
        }),
        event('contentBlockDelta', {
          contentBlockIndex: 0,
          delta: { toolUse: { input: '{"expression": ' } },
        }),
        event('contentBlockStop', { contentBlockIndex: 0 }),
        event('messageStop', { stopReason: 'tool_use' }),
      ],
    });
    const malformed = await failureOf(model().converseStream(request(), () => undefined));
    expect(malformed).toMatchObject({ details: { retryable: false } });
    expect((malformed as ModelError).message).toContain('malformed tool call');
  });
});
