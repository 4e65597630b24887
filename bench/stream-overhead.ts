import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { BedrockConverseModel } from '../lambdas/adapters/bedrock/converse-model';
import { OpenAiCompatibleModel } from '../lambdas/adapters/openai-compatible/openai-model';
import type { ModelProvider, ModelRequest } from '../lambdas/domain/runtime/model';
import { heading, ms, p50p99, table } from './report';
import { type Summary, summarize } from './stats';

/**
 * What streaming costs the adapters themselves: the same reply (about 120 words) fetched whole
 * (`converse`) and streamed in `deltas` pieces (`converseStream`), from stand-ins that answer at
 * once (the model's own time is left out): a local HTTP server speaking chat completions JSON and
 * server-sent events, and the Bedrock SDK fed Converse JSON and the binary event stream at its
 * request handler. Calls alternate whole/streamed so a slow stretch of this shared box hits both.
 * The difference is what a turn pays for showing its text as it is written.
 */

const REPLY = Array.from(
  { length: 120 },
  (_, i) =>
    ['Walk-ins', 'are', 'welcome', 'before', 'noon,', 'and', 'a', 'cleaning', 'costs', '120', 'USD.'][i % 11],
).join(' ');

function pieces(text: string, count: number): string[] {
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let at = 0; at < text.length; at += size) out.push(text.slice(at, at + size));
  return out;
}

const request: ModelRequest = {
  modelId: 'bench-model',
  system: 'You are the assistant of Acme Dental.',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Tell me about walk-ins.' }] }],
  tools: [],
  temperature: 0,
  maxTokens: 512,
  topP: 1,
};

async function openAiStandIn(deltas: number): Promise<{ server: Server; baseUrl: string }> {
  const whole = JSON.stringify({
    id: 'chatcmpl-b',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: REPLY }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 40, completion_tokens: 160, total_tokens: 200 },
  });
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-b', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
  const streamed = [
    ...pieces(REPLY, deltas).map((text) => chunk({ content: text })),
    chunk({}, 'stop'),
    `data: ${JSON.stringify({ id: 'chatcmpl-b', choices: [], usage: { prompt_tokens: 40, completion_tokens: 160 } })}\n\n`,
    'data: [DONE]\n\n',
  ];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      if ((JSON.parse(raw) as { stream?: boolean }).stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const event of streamed) res.write(event);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(whole);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

function bedrockStandIn(deltas: number): BedrockRuntimeClient {
  const codec = new EventStreamCodec(
    (bytes) => new TextDecoder().decode(bytes),
    (text) => new TextEncoder().encode(text),
  );
  const frame = (type: string, body: object) =>
    Buffer.from(
      codec.encode({
        headers: {
          ':message-type': { type: 'string', value: 'event' },
          ':event-type': { type: 'string', value: type },
          ':content-type': { type: 'string', value: 'application/json' },
        },
        body: new TextEncoder().encode(JSON.stringify(body)),
      }),
    );
  const frames = [
    frame('messageStart', { role: 'assistant' }),
    ...pieces(REPLY, deltas).map((text) =>
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }),
    ),
    frame('contentBlockStop', { contentBlockIndex: 0 }),
    frame('messageStop', { stopReason: 'end_turn' }),
    frame('metadata', {
      usage: { inputTokens: 40, outputTokens: 160, totalTokens: 200 },
      metrics: { latencyMs: 0 },
    }),
  ];
  const whole = Buffer.from(
    JSON.stringify({
      output: { message: { role: 'assistant', content: [{ text: REPLY }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 40, outputTokens: 160, totalTokens: 200 },
      metrics: { latencyMs: 0 },
    }),
  );
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: { path: string }) =>
        req.path.endsWith('/converse-stream')
          ? {
              response: {
                statusCode: 200,
                headers: { 'content-type': 'application/vnd.amazon.eventstream' },
                body: Readable.from(frames),
              },
            }
          : {
              response: {
                statusCode: 200,
                headers: { 'content-type': 'application/json' },
                body: Readable.from([whole]),
              },
            },
    } as never,
  });
}

export interface StreamOverheadRow {
  readonly provider: string;
  readonly deltas: number;
  readonly whole: Summary;
  readonly streamed: Summary;
}

async function measure(model: ModelProvider, calls: number, warmup: number) {
  const whole: number[] = [];
  const streamed: number[] = [];
  const stream = model.converseStream?.bind(model);
  if (!stream) throw new Error(`${model.name} does not stream`);
  for (let i = -warmup; i < calls; i++) {
    const order = i % 2 === 0 ? ['whole', 'streamed'] : ['streamed', 'whole'];
    for (const kind of order) {
      const started = performance.now();
      if (kind === 'whole') await model.converse(request);
      else {
        let received = '';
        await stream(request, (text) => {
          received += text;
        });
        if (received !== REPLY) throw new Error('the streamed text differs from the reply');
      }
      const elapsed = performance.now() - started;
      if (i >= 0) (kind === 'whole' ? whole : streamed).push(elapsed);
    }
  }
  return { whole: summarize(whole), streamed: summarize(streamed) };
}

export async function measureStreamOverhead(options: {
  calls: number;
  warmup: number;
  deltas: readonly number[];
}): Promise<StreamOverheadRow[]> {
  const rows: StreamOverheadRow[] = [];
  for (const deltas of options.deltas) {
    const { server, baseUrl } = await openAiStandIn(deltas);
    try {
      const openAi = new OpenAiCompatibleModel({ baseUrl, timeoutMs: 10_000 });
      rows.push({
        provider: 'openai-compatible (SSE)',
        deltas,
        ...(await measure(openAi, options.calls, options.warmup)),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const bedrock = new BedrockConverseModel(bedrockStandIn(deltas));
    rows.push({
      provider: 'bedrock (ConverseStream)',
      deltas,
      ...(await measure(bedrock, options.calls, options.warmup)),
    });
  }
  return rows;
}

export function printStreamOverhead(rows: readonly StreamOverheadRow[]): void {
  console.log(
    heading('Streaming adapter overhead: the same reply whole vs streamed (stand-ins answer at once; ms)'),
  );
  console.log(
    table(
      [
        'provider',
        'deltas',
        'whole p50',
        'whole p99',
        'streamed p50',
        'streamed p99',
        'Δ p50',
        'Δ p50 / delta',
      ],
      rows.map((row) => [
        row.provider,
        String(row.deltas),
        ...p50p99(row.whole),
        ...p50p99(row.streamed),
        ms(row.streamed.p50 - row.whole.p50),
        `${(((row.streamed.p50 - row.whole.p50) / row.deltas) * 1000).toFixed(1)} µs`,
      ]),
    ),
  );
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { calls: { type: 'string', default: '300' }, warmup: { type: 'string', default: '30' } },
  });
  measureStreamOverhead({ calls: Number(values.calls), warmup: Number(values.warmup), deltas: [10, 60] })
    .then(printStreamOverhead)
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    });
}
