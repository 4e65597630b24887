import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { ModelError, type ModelMessage, type ModelRequest } from '../../domain/runtime/model';
import { OpenAiCompatibleModel, type OpenAiCompatibleOptions } from './openai-model';

const API_KEY = 'sk-test-7f3a9c1e5b2d4f6a8c0e';

interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Never answer (to test the timeout). */
  readonly hang?: boolean;
  /** Server-sent events: these raw pieces, each written on its own (split anywhere, as TCP may). */
  readonly sse?: readonly string[];
}

interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** A stand-in chat completions server on 127.0.0.1: answers with queued replies, records requests. */
let server: Server;
let baseUrl: string;
let replies: Reply[];
let received: Received[];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(raw) });
      const reply = replies.shift() ?? { status: 500, body: { error: { message: 'no reply queued' } } };
      if (reply.hang) return;
      if (reply.sse) {
        res.writeHead(reply.status, { 'content-type': 'text/event-stream', ...reply.headers });
        const pieces = [...reply.sse];
        const next = () => {
          const piece = pieces.shift();
          if (piece === undefined) return void res.end();
          res.write(piece);
          setTimeout(next, 1);
        };
        return next();
      }
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let sleeps: number[];

beforeEach(() => {
  replies = [];
  received = [];
  sleeps = [];
});

function model(options: Partial<OpenAiCompatibleOptions> = {}) {
  return new OpenAiCompatibleModel({
    baseUrl,
    apiKey: API_KEY,
    timeoutMs: 2000,
    retry: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
    ...options,
  });
}

const TOOLS = [
  {
    name: 'send_sms',
    description: 'Send an SMS.',
    inputSchema: { type: 'object', properties: { to: { type: 'string' }, body: { type: 'string' } } },
  },
];

function request(messages: ModelMessage[], overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    modelId: 'llama3.1:8b',
    system: 'You are the assistant of Acme Dental.',
    messages,
    tools: TOOLS,
    temperature: 0.3,
    maxTokens: 256,
    topP: 0.95,
    ...overrides,
  };
}

const question: ModelMessage = {
  role: 'user',
  content: [{ type: 'text', text: 'Text +15550100199 saying hi' }],
};

const completion = (message: Record<string, unknown>, finishReason: string | null, usage?: object) => ({
  id: 'chatcmpl-9x2',
  object: 'chat.completion',
  model: 'llama3.1:8b',
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
  ...(usage ? { usage } : {}),
});

const TOOL_CALL_REPLY = completion(
  {
    content: null,
    tool_calls: [
      {
        id: 'call_a1b2',
        type: 'function',
        function: { name: 'send_sms', arguments: '{"to":"+15550100199","body":"hi"}' },
      },
    ],
  },
  'tool_calls',
  { prompt_tokens: 180, completion_tokens: 24, total_tokens: 204 },
);

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

describe('OpenAiCompatibleModel', () => {
  it('posts a chat completion with tools and the key as a bearer token, and maps tool calls back', async () => {
    replies.push({ status: 200, body: TOOL_CALL_REPLY });
    const response = await model().converse(request([question]));

    expect(response.content).toEqual([
      { type: 'toolUse', id: 'call_a1b2', name: 'send_sms', input: { to: '+15550100199', body: 'hi' } },
    ]);
    expect(response.stopReason).toBe('tool_use');
    expect(response.usage).toEqual({ inputTokens: 180, outputTokens: 24 });
    expect(response.latencyMs).toBeGreaterThanOrEqual(0);

    const [sent] = received;
    expect(sent?.url).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent?.body).toEqual({
      model: 'llama3.1:8b',
      messages: [
        { role: 'system', content: 'You are the assistant of Acme Dental.' },
        { role: 'user', content: 'Text +15550100199 saying hi' },
      ],
      temperature: 0.3,
      max_tokens: 256,
      top_p: 0.95,
      tools: [
        {
          type: 'function',
          function: { name: 'send_sms', description: 'Send an SMS.', parameters: TOOLS[0]!.inputSchema },
        },
      ],
    });
  });

  it('sends earlier tool calls as tool_calls and their results as tool messages', async () => {
    replies.push({
      status: 200,
      body: completion({ content: 'Sent.' }, 'stop', { prompt_tokens: 220, completion_tokens: 3 }),
    });
    const response = await model().converse(
      request([
        question,
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Sending it.' },
            { type: 'toolUse', id: 'call_a1b2', name: 'send_sms', input: { to: '+15550100199', body: 'hi' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'toolResult', toolUseId: 'call_a1b2', content: '{"status":"queued"}' },
            { type: 'toolResult', toolUseId: 'call_c3', content: 'rate limited', isError: true },
          ],
        },
      ]),
    );
    expect(response.content).toEqual([{ type: 'text', text: 'Sent.' }]);
    expect(response.stopReason).toBe('end_turn');
    expect(received[0]?.body.messages).toEqual([
      { role: 'system', content: 'You are the assistant of Acme Dental.' },
      { role: 'user', content: 'Text +15550100199 saying hi' },
      {
        role: 'assistant',
        content: 'Sending it.',
        tool_calls: [
          {
            id: 'call_a1b2',
            type: 'function',
            function: { name: 'send_sms', arguments: '{"to":"+15550100199","body":"hi"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a1b2', content: '{"status":"queued"}' },
      { role: 'tool', tool_call_id: 'call_c3', content: 'Error: rate limited' },
    ]);
  });

  it('sends neither tools nor an authorization header when there are none', async () => {
    replies.push({ status: 200, body: completion({ content: 'Hello.' }, 'stop') });
    const response = await model({ apiKey: undefined }).converse(request([question], { tools: [] }));
    expect(received[0]?.headers).not.toHaveProperty('authorization');
    expect(received[0]?.body).not.toHaveProperty('tools');
    // No usage in the response: reported as zero, not guessed.
    expect(response.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it.each([
    ['length', { content: 'Our hours are' }, 'max_tokens'],
    ['content_filter', { content: '' }, 'content_filtered'],
    // Ollama says "stop" even when it called a tool.
    ['stop', TOOL_CALL_REPLY.choices[0]!.message, 'tool_use'],
  ])('maps finish_reason %s to %s', async (finishReason, message, stopReason) => {
    replies.push({ status: 200, body: completion(message, finishReason) });
    expect((await model().converse(request([question]))).stopReason).toBe(stopReason);
  });

  it('fails, not retryable, when a tool call carries arguments that are not a JSON object', async () => {
    replies.push({
      status: 200,
      body: completion(
        {
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'send_sms', arguments: '{"to": +1555' } },
          ],
        },
        'tool_calls',
      ),
    });
    const failure = await failureOf(model().converse(request([question])));
    expect(failure).toBeInstanceOf(ModelError);
    expect(failure).toMatchObject({ provider: 'openai-compatible', retryable: false });
    expect((failure as ModelError).message).toContain(
      'arguments for tool "send_sms" that are not a JSON object',
    );
    expect((failure as ModelError).message).not.toContain('+1555');
    expect(received).toHaveLength(1);
  });

  it('waits as long as Retry-After says on 429, then succeeds', async () => {
    replies.push(
      {
        status: 429,
        headers: { 'retry-after': '2' },
        body: { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } },
      },
      { status: 200, body: TOOL_CALL_REPLY },
    );
    const response = await model().converse(request([question]));
    expect(response.stopReason).toBe('tool_use');
    expect(received).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
  });

  it('gives up at once, retryable, when Retry-After is longer than it will wait', async () => {
    replies.push({
      status: 429,
      headers: { 'retry-after': '120' },
      body: { error: { message: 'Rate limit reached' } },
    });
    const failure = await failureOf(model().converse(request([question])));
    expect(failure).toMatchObject({ retryable: true });
    expect(received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a 429 that means the account is out of credit', async () => {
    replies.push({
      status: 429,
      body: { error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } },
    });
    const failure = await failureOf(model().converse(request([question])));
    expect(failure).toMatchObject({ retryable: false });
    expect(received).toHaveLength(1);
  });

  it('fails at once, not retryable, on 400, in product terms: no server words, address or key', async () => {
    replies.push({
      status: 400,
      body: {
        error: {
          message: `model 'llama9' not found (request signed with ${API_KEY})`,
          type: 'invalid_request_error',
        },
      },
    });
    const failure = await failureOf(model().converse(request([question])));
    expect(failure).toBeInstanceOf(ModelError);
    expect(failure).toMatchObject({ retryable: false, statusCode: 502 });
    const { message } = failure as ModelError;
    expect(message).toBe('openai-compatible: llama3.1:8b: HTTP 400: the provider rejected the request');
    expect(message).not.toContain(new URL(baseUrl).host);
    expect(message).not.toContain('llama9');
    expect(message).not.toContain(API_KEY);
    expect(received).toHaveLength(1);
  });

  it('keeps the key out of anything that logs the provider', () => {
    const provider = model();
    expect(JSON.stringify(provider)).not.toContain(API_KEY);
    expect(inspect(provider, { depth: 5 })).not.toContain(API_KEY);
  });

  it('never repeats what a server says about a rejected key', async () => {
    replies.push({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${API_KEY.slice(0, 12)}****` } },
    });
    const failure = await failureOf(model().converse(request([question])));
    expect(failure).toMatchObject({ retryable: false });
    expect((failure as ModelError).message).toContain('HTTP 401: the API key was rejected');
    expect((failure as ModelError).message).not.toContain(API_KEY.slice(0, 12));
  });

  it('retries 5xx with backoff and gives up after four attempts, retryable', async () => {
    for (let i = 0; i < 4; i++) replies.push({ status: 503, body: 'upstream overloaded' });
    const failure = await failureOf(model().converse(request([question])));
    expect(failure).toMatchObject({ retryable: true });
    expect((failure as ModelError).message).toBe(
      'openai-compatible: llama3.1:8b: HTTP 503: the provider failed to answer (gave up after 4 attempts)',
    );
    expect(received).toHaveLength(4);
    expect(sleeps).toEqual([125, 250, 500]);
  });

  it('times a request out and reports it as retryable', async () => {
    replies.push({ hang: true, status: 200 });
    const failure = await failureOf(
      model({ timeoutMs: 150, retry: { maxAttempts: 1 } }).converse(request([question])),
    );
    expect(failure).toMatchObject({ retryable: true });
    expect((failure as ModelError).message).toContain('no answer within 150 ms');
  });

  it('retries a refused connection and says it cannot reach the server', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const failure = await failureOf(
      model({ baseUrl: `http://127.0.0.1:${port}/v1` }).converse(request([question])),
    );
    expect(failure).toMatchObject({ retryable: true });
    expect((failure as ModelError).message).toBe(
      'openai-compatible: llama3.1:8b: the provider could not be reached (gave up after 4 attempts)',
    );
    expect((failure as ModelError).message).not.toContain(String(port));
    expect(sleeps).toHaveLength(3);
  });
});

describe('OpenAiCompatibleModel: streaming (server-sent events)', () => {
  const chunk = (delta: object, finishReason: string | null = null) => ({
    id: 'chatcmpl-9x3',
    object: 'chat.completion.chunk',
    created: 1_760_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    usage: null,
  });
  const usageChunk = (prompt: number, completion: number) => ({
    id: 'chatcmpl-9x3',
    object: 'chat.completion.chunk',
    created: 1_760_000_000,
    model: 'gpt-4o-mini',
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });
  /** The bytes of an event stream, cut every `every` characters: lines and events split anywhere. */
  function sse(events: readonly (object | string)[], every = 7): string[] {
    const text = events
      .map((event) => `data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`)
      .join('');
    const pieces: string[] = [];
    for (let at = 0; at < text.length; at += every) pieces.push(text.slice(at, at + every));
    return pieces;
  }
  const TEXT_STREAM = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Walk-ins are' }),
    chunk({ content: ' welcome before' }),
    chunk({ content: ' noon.' }),
    chunk({}, 'stop'),
    usageChunk(50, 7),
    '[DONE]',
  ];

  it('passes text on as it arrives and ends with the same response converse gives, usage included', async () => {
    replies.push({ status: 200, sse: sse(TEXT_STREAM) });
    const deltas: string[] = [];
    const response = await model().converseStream(request([question], { tools: [] }), (text) =>
      deltas.push(text),
    );
    expect(deltas).toEqual(['Walk-ins are', ' welcome before', ' noon.']);
    expect(response).toMatchObject({
      content: [{ type: 'text', text: 'Walk-ins are welcome before noon.' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 50, outputTokens: 7 },
    });
    const [sent] = received;
    expect(sent?.headers.accept).toBe('text/event-stream');
    expect(sent?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });

    replies.push({
      status: 200,
      body: completion({ content: 'Walk-ins are welcome before noon.' }, 'stop', {
        prompt_tokens: 50,
        completion_tokens: 7,
      }),
    });
    const whole = await model().converse(request([question], { tools: [] }));
    expect({ ...response, latencyMs: 0 }).toEqual({ ...whole, latencyMs: 0 });
  });

  it('assembles tool calls from their fragments, in order, with text before them', async () => {
    replies.push({
      status: 200,
      sse: sse(
        [
          chunk({ role: 'assistant', content: 'Sending both.' }),
          chunk({
            tool_calls: [
              { index: 0, id: 'call_a1', type: 'function', function: { name: 'send_sms', arguments: '' } },
            ],
          }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '{"to":"+1555' } }] }),
          chunk({
            tool_calls: [
              {
                index: 1,
                id: 'call_b2',
                type: 'function',
                function: { name: 'send_sms', arguments: '{"to"' },
              },
            ],
          }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '0100199","body":"hi"}' } }] }),
          chunk({ tool_calls: [{ index: 1, function: { arguments: ':"+15550100100","body":"yo"}' } }] }),
          chunk({}, 'tool_calls'),
          usageChunk(180, 48),
          '[DONE]',
        ],
        11,
      ),
    });
    const deltas: string[] = [];
    const response = await model().converseStream(request([question]), (text) => deltas.push(text));
    expect(deltas).toEqual(['Sending both.']);
    expect(response.content).toEqual([
      { type: 'text', text: 'Sending both.' },
      { type: 'toolUse', id: 'call_a1', name: 'send_sms', input: { to: '+15550100199', body: 'hi' } },
      { type: 'toolUse', id: 'call_b2', name: 'send_sms', input: { to: '+15550100100', body: 'yo' } },
    ]);
    expect(response.stopReason).toBe('tool_use');
    expect(response.usage).toEqual({ inputTokens: 180, outputTokens: 48 });
  });

  it('retries a 429 before anything streamed, and passes each piece on once', async () => {
    replies.push({
      status: 429,
      headers: { 'retry-after-ms': '20' },
      body: { error: { message: 'slow down' } },
    });
    replies.push({ status: 200, sse: sse(TEXT_STREAM) });
    const deltas: string[] = [];
    await model().converseStream(request([question], { tools: [] }), (text) => deltas.push(text));
    expect(sleeps).toEqual([20]);
    expect(deltas.join('')).toBe('Walk-ins are welcome before noon.');
  });

  it('gives up on a call when the caller aborts it, streamed or not, without retrying', async () => {
    for (const streamed of [false, true]) {
      replies.push({ status: 200, hang: true });
      const abortSignal = AbortSignal.timeout(50);
      const started = Date.now();
      const call = streamed
        ? model({ timeoutMs: 10_000 }).converseStream(request([question], { abortSignal }), () => undefined)
        : model({ timeoutMs: 10_000 }).converse(request([question], { abortSignal }));
      expect(await failureOf(call)).toBeInstanceOf(ModelError);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    expect(received).toHaveLength(2);
    expect(sleeps).toEqual([]);
  });

  it('calls a server that refuses streaming (400) again without it, and answers', async () => {
    replies.push({
      status: 400,
      body: { error: { message: "Unrecognized request argument: 'stream_options'" } },
    });
    replies.push({
      status: 200,
      body: completion({ content: 'Walk-ins are welcome.' }, 'stop', {
        prompt_tokens: 9,
        completion_tokens: 4,
      }),
    });
    const deltas: string[] = [];
    const response = await model().converseStream(request([question], { tools: [] }), (text) =>
      deltas.push(text),
    );
    expect(received.map((r) => r.body.stream)).toEqual([true, undefined]);
    expect(deltas).toEqual([]);
    expect(response).toMatchObject({
      content: [{ type: 'text', text: 'Walk-ins are welcome.' }],
      usage: { inputTokens: 9, outputTokens: 4 },
    });
  });

  it('fails a stream that breaks off, without retrying what was already passed on', async () => {
    replies.push({ status: 200, sse: sse([chunk({ content: 'Walk-ins' }), chunk({ content: ' are' })]) });
    replies.push({ status: 200, sse: sse(TEXT_STREAM) });
    const deltas: string[] = [];
    const failure = await failureOf(
      model().converseStream(request([question], { tools: [] }), (text) => deltas.push(text)),
    );
    expect(failure).toBeInstanceOf(ModelError);
    expect((failure as ModelError).message).toContain('the stream ended before the reply did');
    expect(deltas).toEqual(['Walk-ins', ' are']);
    expect(received).toHaveLength(1);
  });

  it('fails, not retryable, on an error event or tool arguments that are not a JSON object', async () => {
    replies.push({
      status: 200,
      sse: sse([
        chunk({ content: 'Hm' }),
        { error: { message: 'The server had an error', code: 'server_error' } },
      ]),
    });
    const inStream = await failureOf(model().converseStream(request([question]), () => undefined));
    expect(inStream).toBeInstanceOf(ModelError);
    expect(received).toHaveLength(1);

    replies.push({
      status: 200,
      sse: sse([
        chunk({
          tool_calls: [
            { index: 0, id: 'c', type: 'function', function: { name: 'send_sms', arguments: '[1' } },
          ],
        }),
        chunk({}, 'tool_calls'),
        '[DONE]',
      ]),
    });
    const malformed = await failureOf(model().converseStream(request([question]), () => undefined));
    expect(malformed).toMatchObject({ details: { retryable: false } });
    expect((malformed as ModelError).message).toContain('not a JSON object');
  });
});
