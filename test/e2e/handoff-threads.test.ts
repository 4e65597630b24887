/**
 * Staff answering a handed-off conversation reply where the customer wrote: in the Slack thread
 * (chat.postMessage's channel + thread_ts) and in the email chain (In-Reply-To / References,
 * "Re:" subject), as the agent's own replies do. Local mode: the sends land in the outbox.
 */
import { randomUUID } from 'node:crypto';
import { slackSignature } from '../../lambdas/adapters/slack/slack-webhook';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';
import { plainEmail } from '../support/email-messages';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;

const SLACK_TEAM = 'T0THREADS01';
const SIGNING_SECRET = 'threads-slack-signing-secret-0123';

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
  await topUp(api, owner.token, 5000);
}, 60_000);
afterAll(() => api.platform.stop());

async function activeAgent(name: string) {
  const created = await api.request('POST', '/v1/agents', { token: owner.token, body: agentBody(name) });
  expect(created.status).toBe(201);
  expect(
    (await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token })).status,
  ).toBe(200);
  return created.body.id as string;
}

async function settle() {
  const { localInboundQueue } = await import('../../lambdas/composition/inbound');
  await localInboundQueue?.drain();
}

async function outbox(kind: string) {
  await settle();
  const response = await api.request('GET', `/v1/dev/outbox?kind=${kind}&limit=100`, { token: owner.token });
  expect(response.status).toBe(200);
  return response.body.items as Record<string, string>[];
}

async function conversationOf(agentId: string, channel: string) {
  await settle();
  const listed = await api.request('GET', `/v1/conversations?agentId=${agentId}&limit=10`, {
    token: owner.token,
  });
  expect(listed.status).toBe(200);
  const found = (listed.body.items as { id: string; channel: string; agentId: string }[]).find(
    (c) => c.channel === channel && c.agentId === agentId,
  );
  expect(found).toBeDefined();
  return found?.id as string;
}

async function handOffAndAnswer(conversationId: string, text: string) {
  const handed = await api.request('POST', `/v1/conversations/${conversationId}/handoff`, {
    token: owner.token,
    body: { reason: 'asks for a person' },
  });
  expect(handed.status).toBe(200);
  const staff = await api.request('POST', `/v1/conversations/${conversationId}/messages`, {
    token: owner.token,
    body: { text },
  });
  expect(staff.status).toBe(201);
  expect(staff.body.delivery.status).not.toBe('refused');
}

describe('a staff answer on Slack', () => {
  it("goes into the customer's thread (channel and thread_ts of their last message)", async () => {
    const agentId = await activeAgent('Slack threads');
    const configured = await api.request('PUT', `/v1/agents/${agentId}/channels/slack`, {
      token: owner.token,
      body: {
        address: SLACK_TEAM,
        credentials: { botToken: 'xoxb-threads-1', signingSecret: SIGNING_SECRET },
      },
    });
    expect(configured.status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const threadTs = `${now - 30}.000200`;
    const rawBody = JSON.stringify({
      token: 'legacy',
      team_id: SLACK_TEAM,
      api_app_id: 'A0THREADS',
      event: {
        type: 'app_mention',
        channel: 'C0SUPPORT1',
        user: 'U0CUSTOMER1',
        text: '<@U0THREADBOT> my invoice is wrong',
        ts: `${now}.000300`,
        thread_ts: threadTs,
        event_ts: `${now}.000300`,
      },
      type: 'event_callback',
      event_id: 'Ev0THREADS001',
      event_time: now,
      authorizations: [
        { team_id: SLACK_TEAM, user_id: 'U0THREADBOT', is_bot: true, is_enterprise_install: false },
      ],
    });
    const posted = await api.request('POST', '/v1/webhooks/slack', {
      rawBody,
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(now),
        'x-slack-signature': slackSignature(rawBody, SIGNING_SECRET, now),
      },
    });
    expect(posted.status).toBe(200);
    const conversationId = await conversationOf(agentId, 'slack');

    await handOffAndAnswer(conversationId, 'I am fixing the invoice now.');
    const sent = (await outbox('slack')).find((record) => record.body === 'I am fixing the invoice now.');
    expect(sent).toMatchObject({ to: 'U0CUSTOMER1', slackChannel: 'C0SUPPORT1', threadTs });
  });
});

describe('a staff answer by email', () => {
  it("answers the customer's last email: Re: subject, In-Reply-To and References", async () => {
    const agentId = await activeAgent('Email threads');
    const mailbox = `threads-${randomUUID().slice(0, 8)}@acme-dental.example`;
    const configured = await api.request('PUT', `/v1/agents/${agentId}/channels/email`, {
      token: owner.token,
      body: { address: mailbox, enabled: true },
    });
    expect(configured.status).toBe(200);
    const messageId = `<refund-${randomUUID()}@mail.example.com>`;
    const earlier = `<earlier-${randomUUID()}@mail.example.com>`;
    const posted = await api.request('POST', '/v1/dev/email/inbound', {
      rawBody: plainEmail({
        from: 'Jane Doe <jane@example.com>',
        to: mailbox,
        subject: 'Refund',
        messageId,
        inReplyTo: earlier,
        references: earlier,
        text: 'Where is my refund?',
      }),
      headers: { 'content-type': 'message/rfc822' },
    });
    expect(posted.status).toBe(202);
    const conversationId = await conversationOf(agentId, 'email');

    await handOffAndAnswer(conversationId, 'Your refund left today.');
    const sent = (await outbox('email')).find((record) => record.body?.startsWith('Your refund left today.'));
    expect(sent).toMatchObject({
      to: 'jane@example.com',
      from: mailbox,
      subject: 'Re: Refund',
      inReplyTo: messageId,
      references: `${earlier} ${messageId}`,
    });
  });
});
