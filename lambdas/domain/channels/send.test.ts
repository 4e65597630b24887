import { ProviderError } from '../actions/ports';
import type { BillingDeps } from '../billing/billing';
import { DEFAULT_COST_TABLE } from '../billing/costs';
import type { MessageDelivery } from '../conversations/conversations';
import type { ChannelSender, OutboundChannelMessage } from './model';
import type { ChannelConversationStore, CustomerChannelState } from './ports';
import { type CustomerSend, sendToCustomer } from './send';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

function harness(state: Partial<CustomerChannelState>, options: { fail?: unknown } = {}) {
  const deliveries = new Map<string, MessageDelivery>();
  const sent: OutboundChannelMessage[] = [];
  const store = {
    state: async () => ({ optedOut: false, ...state }),
    deliveryOf: async (_t: string, _c: string, id: string) => deliveries.get(id),
    setDelivery: async (_t: string, _c: string, id: string, delivery: MessageDelivery) => {
      deliveries.set(id, delivery);
    },
    markWindowCharged: async () => undefined,
  } as unknown as ChannelConversationStore;
  const sender: ChannelSender = {
    send: async (message) => {
      if (options.fail) throw options.fail;
      sent.push(message);
      return { provider: 'twilio', providerMessageId: `SM${sent.length}`, status: 'queued' };
    },
  };
  // Free messages here: any reserve would reach this repository and fail the test.
  const billing = {
    costs: { ...DEFAULT_COST_TABLE, sms: 0, whatsappConversation: 0 },
    billing: new Proxy({}, { get: () => () => Promise.reject(new Error('billing touched')) }),
    now: () => NOW,
  } as unknown as BillingDeps;
  const deps = {
    senders: { senderFor: () => sender },
    secrets: { get: async () => ({ accountSid: 'AC1', authToken: 'token' }) },
    store,
    billing,
    now: () => NOW,
    log: { warn: () => undefined },
  };
  return { deps, sent, deliveries };
}

const send = (overrides: Partial<CustomerSend> = {}): CustomerSend => ({
  tenantId: 'ten_1',
  agentId: 'agt_1',
  conversation: { id: 'cnv_1', customerId: 'cus_1' },
  channel: 'whatsapp',
  from: '+15550100',
  to: '+15557654321',
  text: 'Your cleaning is on Monday.',
  messageId: 'exe_1#2',
  actor: 'channel:whatsapp',
  ...overrides,
});

describe('sending to a customer on a channel', () => {
  it('refuses free-form WhatsApp more than 24 hours after the customer wrote, records why, charges nothing', async () => {
    const { deps, sent, deliveries } = harness({ lastInboundAt: hoursAgo(25) });
    const outcome = await sendToCustomer(deps, send());
    expect(outcome).toEqual({
      sent: false,
      code: 'WHATSAPP_WINDOW_CLOSED',
      reason: expect.stringContaining('ContentSid'),
    });
    expect(sent).toEqual([]);
    expect(deliveries.get('exe_1#2')).toMatchObject({
      status: 'refused',
      error: expect.stringContaining('WHATSAPP_WINDOW_CLOSED'),
    });
  });

  it('sends an approved template outside the window, and free text inside it', async () => {
    const late = harness({ lastInboundAt: hoursAgo(30) });
    const template = { contentSid: 'HX0123', variables: { '1': 'Ana' } };
    expect(await sendToCustomer(late.deps, send({ template }))).toMatchObject({ sent: true });
    expect(late.sent[0]).toMatchObject({ template, credentials: { authToken: 'token' } });
    const recent = harness({ lastInboundAt: hoursAgo(23) });
    expect(await sendToCustomer(recent.deps, send())).toMatchObject({
      sent: true,
      delivery: { provider: 'twilio', providerMessageId: 'SM1', status: 'queued' },
    });
  });

  it('never sends to an opted-out customer, except the opt-out confirmation itself', async () => {
    const { deps, sent } = harness({ optedOut: true, lastInboundAt: hoursAgo(1) });
    expect(await sendToCustomer(deps, send({ channel: 'sms' }))).toMatchObject({
      sent: false,
      code: 'OPTED_OUT',
    });
    expect(sent).toEqual([]);
    expect(
      await sendToCustomer(deps, send({ channel: 'sms', messageId: 'exe_2#2', evenIfOptedOut: true })),
    ).toMatchObject({ sent: true });
  });

  it('sends a message once however often it is retried', async () => {
    const { deps, sent } = harness({ lastInboundAt: hoursAgo(1) });
    await sendToCustomer(deps, send());
    expect(await sendToCustomer(deps, send())).toMatchObject({ sent: true, replayed: true });
    expect(sent).toHaveLength(1);
  });

  it('records a provider refusal on the message and rethrows what a retry may fix', async () => {
    const refused = harness(
      { lastInboundAt: hoursAgo(1) },
      { fail: new ProviderError('twilio', false, 'HTTP 400 (code 21211)') },
    );
    expect(await sendToCustomer(refused.deps, send())).toMatchObject({
      sent: false,
      code: 'PROVIDER_REFUSED',
    });
    const flaky = harness(
      { lastInboundAt: hoursAgo(1) },
      { fail: new ProviderError('twilio', true, 'HTTP 503') },
    );
    await expect(sendToCustomer(flaky.deps, send())).rejects.toThrow('HTTP 503');
  });
});
