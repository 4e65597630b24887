/**
 * The WebSocket API in local mode (`/v1/ws`, issue 14): time to the first event and to the first
 * delta after `send_message`, the delivery overhead of one delta (published through the fan-out
 * sink → received by a subscribed socket), and 1,000 connections held at once with the memory each
 * costs. Run alone with `npx tsx bench/websocket.ts`; `npm run bench` runs it in a child process
 * (one local platform per process) and prints its section.
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import type { FanOutSink } from '../lambdas/domain/realtime/fan-out';
import type { LocalPlatform } from '../local/platform';
import { finishBench, measureInChildProcess, UNREACHED_TURN_RATE_LIMITS } from './isolated';
import { withLocalPlatform } from './local-stack';
import { heading, table, timingRow } from './report';
import { type Summary, summarize } from './stats';

export interface WebSocketBenchResult {
  readonly turns: number;
  readonly firstEventMs: Summary;
  readonly firstDeltaMs: Summary;
  readonly messageMs: Summary;
  readonly deltas: number;
  readonly deltaOverheadMs: Summary;
  readonly connections: number;
  readonly connectMs: Summary;
  readonly heldOpen: number;
  /** (heap + external + array buffers) growth per connection, both ends (server and client) in this process. */
  readonly bytesPerConnectionBothEnds: number;
  readonly rssPerConnectionBothEnds: number;
}

interface Frame {
  type: string;
  seq: number;
  text?: string;
  requestId?: string;
  executionId?: string | null;
  sentAt?: number;
}

async function json(platform: LocalPlatform, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${platform.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      'idempotency-key': `bench-${Math.random().toString(36).slice(2)}`,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
  });
}

function nextFrame(socket: WebSocket, match: (frame: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error('no frame in time'));
    }, timeoutMs);
    const onMessage = (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (!match(frame)) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(frame);
    };
    socket.on('message', onMessage);
  });
}

const memory = () => {
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external + usage.arrayBuffers, rss: usage.rss };
};

export async function measureWebSocket(options: {
  turns: number;
  deltas: number;
  connections: number;
  progress: (line: string) => void;
}): Promise<WebSocketBenchResult> {
  return withLocalPlatform(async (platform, assertRunning) => {
    const owner = await json(platform, 'POST', '/v1/auth/register', undefined, {
      tenant: { name: 'WS bench' },
      owner: { email: 'ws-bench@example.test', password: 'Correct-Horse-9', name: 'Bench' },
    });
    const token = owner.auth.token as string;
    await json(platform, 'POST', '/v1/tokens/purchase', token, { amount: 100_000 });
    const agent = await json(platform, 'POST', '/v1/agents', token, {
      name: 'Bench desk',
      businessType: 'dental',
      model: { provider: 'scripted', modelId: 'scripted-v1' },
      tools: ['calculator'],
    });
    await json(platform, 'POST', `/v1/agents/${agent.id}/start`, token);
    const url = `${platform.url.replace(/^http/, 'ws')}/v1/ws?token=${encodeURIComponent(token)}`;

    // 1. send_message → first event, first delta, final message (each turn a calculator round).
    options.progress(`websocket bench: ${options.turns} turns over the socket…`);
    const socket = await open(url);
    const firstEvent: number[] = [];
    const firstDelta: number[] = [];
    const message: number[] = [];
    for (let i = 0; i < options.turns + 5; i += 1) {
      assertRunning();
      const started = performance.now();
      let eventAt = 0;
      let deltaAt = 0;
      const onMessage = (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.executionId && !eventAt) eventAt = performance.now();
        if (frame.type === 'agent_message_delta' && !deltaAt) deltaAt = performance.now();
      };
      socket.on('message', onMessage);
      const done = nextFrame(socket, (frame) => frame.type === 'agent_message' || frame.type === 'error');
      socket.send(
        JSON.stringify({ action: 'send_message', agentId: agent.id, message: `what is ${i}*(3+4)?` }),
      );
      const last = await done;
      socket.off('message', onMessage);
      if (last.type === 'error') throw new Error(`turn failed: ${JSON.stringify(last)}`);
      if (i < 5) continue; // warm-up
      firstEvent.push(eventAt - started);
      firstDelta.push(deltaAt - started);
      message.push(performance.now() - started);
    }

    // 2. One delta's delivery: published through the process's fan-out sink, received by a subscriber.
    options.progress(`websocket bench: ${options.deltas} deltas through the fan-out sink…`);
    const sink = (await import('../lambdas/composition/realtime-session')).realtimeDeps.events as FanOutSink;
    const conversation = (
      await json(platform, 'POST', `/v1/agents/${agent.id}/chat`, token, { message: 'hello' })
    ).conversationId as string;
    const watcher = await open(url);
    const subscribed = nextFrame(watcher, (frame) => frame.type === 'subscribed');
    watcher.send(JSON.stringify({ action: 'subscribe', conversationId: conversation }));
    await subscribed;
    const overhead: number[] = [];
    const scope = {
      tenantId: owner.tenant.id as string,
      agentId: agent.id as string,
      conversationId: conversation,
    };
    for (let i = 0; i < options.deltas + 50; i += 1) {
      const received = nextFrame(watcher, (frame) => frame.type === 'agent_message_delta');
      const sentAt = performance.now();
      sink.publish({ ...scope, executionId: 'exe_bench' }, { type: 'agent_message_delta', text: 'word ' });
      await received;
      if (i >= 50) overhead.push(performance.now() - sentAt);
    }
    await sink.drain();

    // 3. Many connections held at once.
    options.progress(`websocket bench: ${options.connections} connections…`);
    global.gc?.();
    const before = memory();
    const held: WebSocket[] = [];
    const connectTimes: number[] = [];
    for (let start = 0; start < options.connections; start += 50) {
      assertRunning();
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, options.connections - start) }, async () => {
          const t = performance.now();
          const opened = await open(url);
          connectTimes.push(performance.now() - t);
          return opened;
        }),
      );
      held.push(...batch);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    global.gc?.();
    const after = memory();
    const heldOpen = held.filter((s) => s.readyState === WebSocket.OPEN).length;
    for (const s of [...held, socket, watcher]) s.terminate();

    return {
      turns: options.turns,
      firstEventMs: summarize(firstEvent),
      firstDeltaMs: summarize(firstDelta),
      messageMs: summarize(message),
      deltas: options.deltas,
      deltaOverheadMs: summarize(overhead),
      connections: options.connections,
      connectMs: summarize(connectTimes),
      heldOpen,
      bytesPerConnectionBothEnds: Math.round((after.heap - before.heap) / options.connections),
      rssPerConnectionBothEnds: Math.round((after.rss - before.rss) / options.connections),
    };
  });
}

export function printWebSocket(result: WebSocketBenchResult): void {
  console.log(heading('WebSocket API (local mode, /v1/ws)'));
  console.log(
    table(
      ['measure', 'n', 'p50 ms', 'p99 ms'],
      [
        timingRow('send_message → first event (agent_thinking)', result.firstEventMs),
        timingRow('send_message → first agent_message_delta', result.firstDeltaMs),
        timingRow('send_message → agent_message (calculator round)', result.messageMs),
        timingRow('one delta: sink publish → subscriber receives', result.deltaOverheadMs),
        timingRow('connect (authorizer + $connect + upgrade)', result.connectMs),
      ],
    ),
  );
  console.log(
    `${result.heldOpen}/${result.connections} connections held open at once; memory per connection (server and client in one process): ` +
      `${(result.bytesPerConnectionBothEnds / 1024).toFixed(1)} KB heap+external, ${(result.rssPerConnectionBothEnds / 1024).toFixed(1)} KB RSS.`,
  );
  console.log(
    'The first event and delta include the turn admission, billing reservation and the scripted model; the per-delta figure is delivery alone (the subscriber list is read once per 500 ms).',
  );
}

export function webSocketFindings(result: WebSocketBenchResult): string[] {
  return result.heldOpen === result.connections
    ? []
    : [`FAIL  websocket: only ${result.heldOpen} of ${result.connections} connections held open`];
}

/** Runs the bench in a child process (one local platform per process) and reads its result. */
export function measureWebSocketIsolated(options: {
  turns: number;
  deltas: number;
  connections: number;
  progress: (line: string) => void;
}): Promise<WebSocketBenchResult> {
  return measureInChildProcess({
    script: __filename,
    label: 'websocket bench',
    flags: { turns: options.turns, deltas: options.deltas, connections: options.connections },
    nodeOptions: ['--expose-gc'],
    env: { TURN_RATE_LIMITS: UNREACHED_TURN_RATE_LIMITS },
    progress: options.progress,
  });
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      turns: { type: 'string', default: '100' },
      deltas: { type: 'string', default: '1000' },
      connections: { type: 'string', default: '1000' },
      out: { type: 'string' },
    },
  });
  // Exits when done: the platform's sockets would keep the process alive.
  void finishBench(
    measureWebSocket({
      turns: Number(values.turns),
      deltas: Number(values.deltas),
      connections: Number(values.connections),
      progress: (line) => console.error(line),
    }),
    values.out,
    printWebSocket,
  ).then(() => process.exit());
}
