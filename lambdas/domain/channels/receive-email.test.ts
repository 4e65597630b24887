import type { ChannelRoute, InboundMessage } from './model';
import { type QueuedInbound, type ReceiveDeps, UnknownChannelAddressError } from './receive';
import { receiveEmail } from './receive-email';

const ROUTE: ChannelRoute = {
  channel: 'email',
  address: 'help@acme-dental.example',
  tenantId: 'ten_01J0000000000000000000000A',
  agentId: 'agt_01J0000000000000000000000A',
};

const message = (agentAddress: string): InboundMessage => ({
  channel: 'email',
  agentAddress,
  customerAddress: 'jane@example.com',
  text: 'Thursday at 10?',
  attachments: [],
  providerMessageId: 'c1@mail.example',
  sentAt: '2026-12-01T10:00:00.000Z',
  replyContext: {
    messageId: '<c1@mail.example>',
    references: '',
    threadId: '<c1@mail.example>',
    subject: 'Hi',
  },
});

function deps() {
  const queued: QueuedInbound[] = [];
  const claims = new Set<string>();
  const resolved: string[] = [];
  const warnings: string[] = [];
  const secretReads: string[] = [];
  const value: ReceiveDeps = {
    directory: {
      resolve: async (channel, address) => {
        resolved.push(address);
        return channel === 'email' && address === ROUTE.address ? ROUTE : undefined;
      },
    },
    dedup: {
      claim: async (channel, id) => {
        const key = `${channel}#${id}`;
        if (claims.has(key)) return false;
        claims.add(key);
        return true;
      },
      release: async (channel, id) => {
        claims.delete(`${channel}#${id}`);
      },
    },
    secrets: {
      get: async (tenantId) => {
        secretReads.push(tenantId);
        return undefined;
      },
    },
    queue: { enqueue: async (item) => void queued.push(item) },
    inTenantScope: (_tenant, work) => work(),
    now: () => new Date('2026-12-01T10:00:01.000Z'),
    log: { warn: (text) => void warnings.push(text) },
  };
  return { value, queued, resolved, warnings, secretReads };
}

describe('receiveEmail', () => {
  it('routes by the first mailbox an agent answers and queues the message for it', async () => {
    const { value, queued, resolved } = deps();
    const outcome = await receiveEmail(value, [
      message('someone@elsewhere.example'),
      message('Help@Acme-Dental.example'),
    ]);
    expect(outcome).toEqual({ route: ROUTE, queued: 1, duplicates: 0 });
    expect(resolved).toEqual(['someone@elsewhere.example', 'help@acme-dental.example']);
    expect(queued).toEqual([
      {
        tenantId: ROUTE.tenantId,
        agentId: ROUTE.agentId,
        message: message('Help@Acme-Dental.example'),
        receivedAt: '2026-12-01T10:00:01.000Z',
      },
    ]);
  });

  it('needs no channel secrets (an email channel has none) and reads none', async () => {
    const { value, queued, secretReads } = deps();
    await receiveEmail(value, [message(ROUTE.address)]);
    expect(queued).toHaveLength(1);
    expect(secretReads).toEqual([]);
  });

  it('takes the same Message-ID once', async () => {
    const { value, queued } = deps();
    await receiveEmail(value, [message(ROUTE.address)]);
    const again = await receiveEmail(value, [message(ROUTE.address)]);
    expect(again).toMatchObject({ queued: 0, duplicates: 1 });
    expect(queued).toHaveLength(1);
  });

  it('refuses mail for no agent (404) and stores nothing', async () => {
    const { value, queued, warnings } = deps();
    await expect(receiveEmail(value, [message('nobody@acme-dental.example')])).rejects.toBeInstanceOf(
      UnknownChannelAddressError,
    );
    await expect(receiveEmail(value, [])).rejects.toMatchObject({ statusCode: 404 });
    expect(queued).toEqual([]);
    expect(warnings).toHaveLength(2);
  });
});
