import { UNSCOPED } from '../shared/scopes';
import { customerSignature } from './authorize';
import { fanOutSink } from './fan-out';
import type { ConnectionPoster, ConnectionStore } from './ports';
import { encodeFrame, MAX_FRAME_BYTES, parseClientFrame, splitText } from './protocol';

const scope = { tenantId: 'ten_A', agentId: 'agt_A', conversationId: 'cnv_A', executionId: 'exe_A' };

function store(subscribers: string[]): ConnectionStore & { removed: string[] } {
  const removed: string[] = [];
  return {
    removed,
    put: async () => undefined,
    get: async () => undefined,
    bindConversation: async () => undefined,
    remove: async (_tenant, id) => {
      removed.push(id);
    },
    subscribe: async () => undefined,
    unsubscribe: async () => undefined,
    subscribers: async () => subscribers.filter((id) => !removed.includes(id)),
  };
}

describe('fan-out sink', () => {
  it('delivers in publish order per execution even when a post is slow, numbering from 1', async () => {
    const received: { id: string; frame: { seq: number; type: string } }[] = [];
    let first = true;
    const poster: ConnectionPoster = {
      post: async (id, frame) => {
        // The first frame takes longest: a sink that did not chain would deliver it last.
        if (first) {
          first = false;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        received.push({ id, frame: JSON.parse(frame) });
        return 'sent';
      },
    };
    const sink = fanOutSink({
      store: store(['c1']),
      poster,
      scopes: UNSCOPED,
      log: { warn: () => undefined },
    });
    sink.publish(scope, { type: 'agent_thinking' });
    sink.publish(scope, { type: 'agent_message_delta', text: 'a' });
    sink.publish(scope, { type: 'agent_message', text: 'a' });
    await sink.drain();
    expect(received.map((r) => [r.frame.type, r.frame.seq])).toEqual([
      ['agent_thinking', 1],
      ['agent_message_delta', 2],
      ['agent_message', 3],
    ]);
  });

  it('removes a connection API Gateway says is gone (410) and keeps serving the others', async () => {
    const connections = store(['gone', 'live']);
    const sent: string[] = [];
    const poster: ConnectionPoster = {
      post: async (id) => {
        if (id === 'gone') return 'gone';
        sent.push(id);
        return 'sent';
      },
    };
    const sink = fanOutSink({ store: connections, poster, scopes: UNSCOPED, log: { warn: () => undefined } });
    sink.publish(scope, { type: 'agent_thinking' });
    sink.publish(scope, { type: 'agent_message', text: 'done' });
    await sink.drain();
    expect(connections.removed).toEqual(['gone']);
    expect(sent).toEqual(['live', 'live']);
  });

  it('never throws into the turn: a failing store or poster is logged', async () => {
    const warnings: string[] = [];
    const broken: ConnectionStore = {
      ...store([]),
      subscribers: async () => Promise.reject(new Error('down')),
    };
    const sink = fanOutSink({
      store: broken,
      poster: { post: async () => 'sent' },
      scopes: UNSCOPED,
      log: { warn: (message) => warnings.push(message) },
    });
    expect(() => sink.publish(scope, { type: 'agent_thinking' })).not.toThrow();
    await sink.drain();
    expect(warnings).toEqual(['Turn event delivery failed']);
  });
});

describe('frames', () => {
  it('keeps every frame under 32 KB: long deltas split, long messages cut and marked', () => {
    const parts = splitText('ü'.repeat(50_000));
    expect(parts.join('')).toBe('ü'.repeat(50_000));
    const message = encodeFrame({
      type: 'agent_message',
      text: '"'.repeat(40_000),
      conversationId: 'cnv_A',
      executionId: 'exe_A',
      seq: 9,
    });
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(JSON.parse(message)).toMatchObject({ type: 'agent_message', truncated: true, seq: 9 });
  });

  it('names the field of a malformed client frame', () => {
    expect(() => parseClientFrame('{"action":"send_message","agentId":"agt_x","message":""}')).toThrow(
      /agentId|message/,
    );
    expect(() =>
      parseClientFrame(
        '{"action":"subscribe","conversationId":"cnv_01J00000000000000000000000","agentId":"agt_01J00000000000000000000000"}',
      ),
    ).toThrow(/exactly one/);
    expect(() => parseClientFrame('[]')).toThrow(/JSON object/);
  });

  it('signs customer ids as the business server does (hex HMAC-SHA256)', () => {
    // RFC 4231-style known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    expect(customerSignature('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });
});
