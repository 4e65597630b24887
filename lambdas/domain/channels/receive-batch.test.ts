import { metaSignature, metaWebhook } from '../../adapters/meta/meta-webhook';
import type { ChannelRoute } from './model';
import {
  type QueuedInbound,
  type ReceiveDeps,
  UnknownChannelAddressError,
  WebhookProofError,
} from './receive';
import { receiveBatch } from './receive-batch';

const PAGE_A = '104829318712345';
const PAGE_B = '104829318799999';
const STRANGER = '555555555555555';
const APP_SECRET = 'shop-app-secret-1';

const ROUTES: Record<string, ChannelRoute> = {
  [`messenger#${PAGE_A}`]: { channel: 'messenger', address: PAGE_A, tenantId: 'ten_A', agentId: 'agt_1' },
  [`messenger#${PAGE_B}`]: { channel: 'messenger', address: PAGE_B, tenantId: 'ten_A', agentId: 'agt_2' },
};

function fakes(secretsByAgent: Record<string, Record<string, string>>) {
  const queued: QueuedInbound[] = [];
  const claimed = new Set<string>();
  const calls = { resolve: 0, secrets: 0, scopes: [] as string[] };
  const deps: ReceiveDeps = {
    directory: {
      resolve: async (channel, address) => {
        calls.resolve++;
        return ROUTES[`${channel}#${address}`];
      },
    },
    secrets: {
      get: async (_tenantId, agentId) => {
        calls.secrets++;
        return secretsByAgent[agentId];
      },
    },
    dedup: {
      claim: async (channel, id) => {
        const key = `${channel}#${id}`;
        if (claimed.has(key)) return false;
        claimed.add(key);
        return true;
      },
      release: async (channel, id) => void claimed.delete(`${channel}#${id}`),
    },
    queue: { enqueue: async (item) => void queued.push(item) },
    inTenantScope: async (tenantId, work) => {
      calls.scopes.push(tenantId);
      return work();
    },
    now: () => new Date('2026-12-06T05:00:00Z'),
    log: { warn: () => undefined },
  };
  return { deps, queued, claimed, calls };
}

const event = (page: string, mid: string, text: string) => ({
  sender: { id: '6789012345678901' },
  recipient: { id: page },
  timestamp: 1765000000000,
  message: { mid, text },
});
const batch = (...entries: [string, ...ReturnType<typeof event>[]][]) =>
  JSON.stringify({
    object: 'page',
    entry: entries.map(([id, ...messaging]) => ({ id, time: 1, messaging })),
  });

function deliveriesOf(rawBody: string, secret = APP_SECRET) {
  const parsed = metaWebhook({ rawBody, headers: { 'x-hub-signature-256': metaSignature(rawBody, secret) } });
  if (parsed.kind !== 'deliveries') throw new Error(parsed.reason);
  return parsed.deliveries;
}

const shared = { agt_1: { appSecret: APP_SECRET }, agt_2: { appSecret: APP_SECRET } };

describe('receiveBatch', () => {
  it('queues every message of every entry, in order, reading each route and secret once', async () => {
    const { deps, queued, calls } = fakes(shared);
    const raw = batch(
      [PAGE_A, event(PAGE_A, 'm_1', 'one')],
      [PAGE_B, event(PAGE_B, 'm_2', 'two'), event(PAGE_B, 'm_3', 'three')],
    );
    const result = await receiveBatch(deps, deliveriesOf(raw));
    expect(result.unknown).toBe(0);
    expect(queued.map((q) => [q.agentId, q.message.text])).toEqual([
      ['agt_1', 'one'],
      ['agt_2', 'two'],
      ['agt_2', 'three'],
    ]);
    expect(calls.resolve).toBe(2);
    expect(calls.secrets).toBe(2);
    expect(new Set(calls.scopes)).toEqual(new Set(['ten_A']));
  });

  it('stores nothing when one entry fails its proof, even after a good one', async () => {
    // Page B's channel holds another app's secret: the signature over the batch does not prove B.
    const { deps, queued, claimed } = fakes({
      agt_1: { appSecret: APP_SECRET },
      agt_2: { appSecret: 'another-app' },
    });
    const raw = batch([PAGE_A, event(PAGE_A, 'm_1', 'one')], [PAGE_B, event(PAGE_B, 'm_2', 'two')]);
    await expect(receiveBatch(deps, deliveriesOf(raw))).rejects.toBeInstanceOf(WebhookProofError);
    expect(queued).toEqual([]);
    expect(claimed.size).toBe(0);
  });

  it('skips entries for addresses no agent answers on, and 404s when none is known', async () => {
    const { deps, queued } = fakes(shared);
    const mixed = batch([STRANGER, event(STRANGER, 'm_x', 'lost')], [PAGE_A, event(PAGE_A, 'm_1', 'one')]);
    await expect(receiveBatch(deps, deliveriesOf(mixed))).resolves.toMatchObject({ unknown: 1 });
    expect(queued.map((q) => q.message.providerMessageId)).toEqual(['m_1']);

    const onlyStrangers = batch([STRANGER, event(STRANGER, 'm_y', 'lost')]);
    await expect(receiveBatch(deps, deliveriesOf(onlyStrangers))).rejects.toBeInstanceOf(
      UnknownChannelAddressError,
    );
    expect(queued).toHaveLength(1);
  });

  it('drops the redelivery of a batch', async () => {
    const { deps, queued } = fakes(shared);
    const raw = batch([PAGE_A, event(PAGE_A, 'm_1', 'one')], [PAGE_B, event(PAGE_B, 'm_2', 'two')]);
    await receiveBatch(deps, deliveriesOf(raw));
    const again = await receiveBatch(deps, deliveriesOf(raw));
    expect(queued).toHaveLength(2);
    expect(again.outcomes.map((o) => o.duplicates)).toEqual([1, 1]);
  });
});
