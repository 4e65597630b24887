/**
 * The WebSocket API over a real socket against local mode (`/v1/ws` on the local server's port):
 * the `$connect` check, subscriptions only within the caller's tenant, turn events delivered in
 * order to subscribers, `send_message`, `agent_feedback` counted in the agent's stats, and the
 * public web chat (publishable key, origin allow-list, signed customer id).
 */
import { customerSignature } from '../../lambdas/domain/realtime/authorize';
import type { FanOutSink } from '../../lambdas/domain/realtime/fan-out';
import { type ApiClient, agentBody, registerTenant, startApi, topUp, userWithRole } from '../support/api';
import { connect, type Frame, refusedStatus, type SocketClient } from '../support/websocket';

let api: ApiClient;
let tenantA: Awaited<ReturnType<typeof registerTenant>>;
let tenantB: Awaited<ReturnType<typeof registerTenant>>;
let agentA: string;
const open: SocketClient[] = [];
/** The process's fan-out sink (what the runtime publishes through), loaded once local mode is configured. */
let sink: FanOutSink;

async function client(
  query: Record<string, string>,
  options: { protocols?: string[]; origin?: string } = {},
) {
  const socket = await connect(api.platform.url, query, options);
  open.push(socket);
  return socket;
}

async function activeAgent(token: string, name: string) {
  const created = await api.request('POST', '/v1/agents', {
    token,
    body: {
      ...agentBody(name),
      knowledgeBase: {
        faqs: [{ question: 'Do you take walk-ins?', answer: 'Walk-ins are welcome before noon.' }],
      },
      tools: ['calculator', 'knowledge_lookup'],
    },
  });
  expect(created.status).toBe(201);
  await api.request('POST', `/v1/agents/${created.body.id}/start`, { token });
  return created.body.id as string;
}

beforeAll(async () => {
  api = await startApi();
  tenantA = await registerTenant(api);
  tenantB = await registerTenant(api);
  await topUp(api, tenantA.token, 10_000);
  agentA = await activeAgent(tenantA.token, 'Desk A');
  sink = (await import('../../lambdas/composition/realtime-session')).realtimeDeps.events;
});
afterAll(async () => {
  await Promise.all(open.map((socket) => socket.close()));
  await api.platform.stop();
});

describe('$connect', () => {
  it('refuses an upgrade without a token, with a forged or foreign token, and accepts a valid one', async () => {
    expect(await refusedStatus(connect(api.platform.url))).toBe(401);
    expect(await refusedStatus(connect(api.platform.url, { token: 'not-a-jwt' }))).toBe(401);
    const [header, payload] = tenantA.token.split('.');
    expect(await refusedStatus(connect(api.platform.url, { token: `${header}.${payload}.AAAA` }))).toBe(401);
    const socket = await client({ token: tenantA.token });
    expect(socket.socket.readyState).toBe(1);
  });

  it('takes the token as Sec-WebSocket-Protocol and selects the platform subprotocol', async () => {
    const socket = await client({}, { protocols: ['agent-platform', tenantA.token] });
    expect(socket.socket.protocol).toBe('agent-platform');
    expect(
      await refusedStatus(connect(api.platform.url, {}, { protocols: ['agent-platform', 'x.y.z'] })),
    ).toBe(401);
  });
});

describe('subscriptions', () => {
  it('refuses another tenant’s conversation and agent with an error frame, subscribing to nothing', async () => {
    const chat = await api.request('POST', `/v1/agents/${agentA}/chat`, {
      token: tenantA.token,
      body: { message: 'Do you take walk-ins?' },
    });
    expect(chat.status).toBe(200);
    const intruder = await client({ token: tenantB.token });
    intruder.send({ action: 'subscribe', conversationId: chat.body.conversationId, requestId: 'r1' });
    const refused = await intruder.next((frame) => frame.requestId === 'r1');
    expect(refused).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    intruder.send({ action: 'subscribe', agentId: agentA, requestId: 'r2' });
    expect(await intruder.next((frame) => frame.requestId === 'r2')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });

    // Events of A's conversation reach A's subscriber and never B's socket.
    const watcher = await client({ token: tenantA.token });
    watcher.send({ action: 'subscribe', conversationId: chat.body.conversationId, requestId: 'w' });
    expect(await watcher.next((frame) => frame.requestId === 'w')).toMatchObject({
      type: 'subscribed',
      conversationId: chat.body.conversationId,
    });
    sink.publish(
      {
        tenantId: tenantA.tenantId,
        agentId: agentA,
        conversationId: chat.body.conversationId,
        executionId: 'exe_probe',
      },
      { type: 'agent_message', text: 'for A only' },
    );
    await watcher.next((frame) => frame.type === 'agent_message' && frame.text === 'for A only');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(intruder.frames.filter((frame) => frame.type !== 'error')).toEqual([]);
  });

  it('answers a malformed frame with an error naming the field, and keeps the connection', async () => {
    const socket = await client({ token: tenantA.token });
    socket.send({ action: 'subscribe', requestId: 'm1' });
    expect(await socket.next((frame) => frame.requestId === 'm1')).toMatchObject({
      type: 'error',
      code: 'INVALID_FRAME',
      message: expect.stringContaining('conversationId'),
    });
    socket.socket.send('not json');
    expect(
      await socket.next(
        (frame) => frame.type === 'error' && frame.code === 'INVALID_FRAME' && !frame.requestId,
      ),
    ).toBeTruthy();
    socket.send({ action: 'dance', requestId: 'm2' });
    expect(await socket.next((frame) => frame.requestId === 'm2')).toMatchObject({
      type: 'error',
      code: 'UNKNOWN_ACTION',
    });
    expect(socket.socket.readyState).toBe(1);
  });

  it('delivers a turn’s events to an agent subscriber in order, numbered per execution, each frame under 32 KB', async () => {
    const socket = await client({ token: tenantA.token });
    socket.send({ action: 'subscribe', agentId: agentA, requestId: 'a' });
    await socket.next((frame) => frame.requestId === 'a' && frame.type === 'subscribed');
    const scope = {
      tenantId: tenantA.tenantId,
      agentId: agentA,
      conversationId: 'cnv_01J00000000000000000000000',
      executionId: 'exe_order',
    };
    sink.publish(scope, { type: 'agent_thinking' });
    for (let i = 0; i < 20; i += 1) sink.publish(scope, { type: 'agent_message_delta', text: `w${i} ` });
    sink.publish(scope, { type: 'agent_message_delta', text: 'é'.repeat(40_000) });
    sink.publish(scope, { type: 'agent_message', text: 'x'.repeat(100_000) });
    const last = await socket.next(
      (frame) => frame.type === 'agent_message' && frame.executionId === 'exe_order',
    );
    const frames = socket.frames.filter((frame) => frame.executionId === 'exe_order');
    expect(frames.map((frame) => frame.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(frames[0]).toMatchObject({
      type: 'agent_thinking',
      conversationId: scope.conversationId,
      agentId: agentA,
    });
    expect(
      frames
        .slice(1, 21)
        .map((frame: Frame) => frame.text)
        .join(''),
    ).toBe(Array.from({ length: 20 }, (_, i) => `w${i} `).join(''));
    const bigDelta = frames.filter((frame) => frame.type === 'agent_message_delta').slice(20);
    expect(bigDelta.length).toBeGreaterThan(1);
    expect(bigDelta.map((frame) => frame.text).join('')).toBe('é'.repeat(40_000));
    expect(last.truncated).toBe(true);
    for (const frame of frames)
      expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(32 * 1024);
  });
});

describe('public web chat', () => {
  const ORIGIN = 'https://shop.example';
  let chat: { publishableKey: string; signingSecret: string };

  beforeAll(async () => {
    const setUp = await api.request('PUT', `/v1/agents/${agentA}/web-chat`, {
      token: tenantA.token,
      body: { allowedOrigins: [ORIGIN] },
    });
    expect(setUp.status).toBe(200);
    expect(setUp.body.publishableKey).toMatch(/^pk_/);
    expect(setUp.body.signingSecret).toMatch(/^whsec_/);
    chat = setUp.body;
  });

  it('shows the key but never the secret again, and only to the agent’s tenant', async () => {
    const read = await api.request('GET', `/v1/agents/${agentA}/web-chat`, { token: tenantA.token });
    expect(read.body).toMatchObject({
      publishableKey: chat.publishableKey,
      allowedOrigins: [ORIGIN],
      enabled: true,
    });
    expect(read.text).not.toContain(chat.signingSecret);
    const changed = await api.request('PUT', `/v1/agents/${agentA}/web-chat`, {
      token: tenantA.token,
      body: { allowedOrigins: [ORIGIN, 'http://localhost:3000'] },
    });
    expect(changed.body.signingSecret).toBeUndefined();
    expect(changed.body.publishableKey).toBe(chat.publishableKey);
    const foreign = await api.request('GET', `/v1/agents/${agentA}/web-chat`, { token: tenantB.token });
    expect(foreign.status).toBe(404);
    const bad = await api.request('PUT', `/v1/agents/${agentA}/web-chat`, {
      token: tenantA.token,
      body: { allowedOrigins: ['shop.example/path'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('allowedOrigins');
  });

  it('lets a visitor in with the key from an allowed origin only', async () => {
    expect(await refusedStatus(connect(api.platform.url, { key: chat.publishableKey }))).toBe(403);
    expect(
      await refusedStatus(
        connect(api.platform.url, { key: chat.publishableKey }, { origin: 'https://evil.example' }),
      ),
    ).toBe(403);
    expect(
      await refusedStatus(connect(api.platform.url, { key: 'pk_notarealkeyatallxxxxx' }, { origin: ORIGIN })),
    ).toBe(401);
    const visitor = await client({ key: chat.publishableKey }, { origin: ORIGIN });
    expect(visitor.socket.readyState).toBe(1);
  });

  it('keeps a visitor to their own conversation: no agent, no other conversation', async () => {
    const staffChat = await api.request('POST', `/v1/agents/${agentA}/chat`, {
      token: tenantA.token,
      body: { message: 'Do you take walk-ins?' },
    });
    const visitor = await client({ key: chat.publishableKey }, { origin: ORIGIN });
    visitor.send({ action: 'subscribe', agentId: agentA, requestId: 'v1' });
    expect(await visitor.next((frame) => frame.requestId === 'v1')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });
    visitor.send({ action: 'subscribe', conversationId: staffChat.body.conversationId, requestId: 'v2' });
    expect(await visitor.next((frame) => frame.requestId === 'v2')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });
    visitor.send({
      action: 'send_message',
      conversationId: staffChat.body.conversationId,
      message: 'hello',
      requestId: 'v3',
    });
    expect(await visitor.next((frame) => frame.requestId === 'v3')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });
    // Events of the staff conversation never reach the visitor.
    sink.publish(
      {
        tenantId: tenantA.tenantId,
        agentId: agentA,
        conversationId: staffChat.body.conversationId,
        executionId: 'exe_staff',
      },
      { type: 'agent_message', text: 'staff only' },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(visitor.frames.some((frame) => frame.text === 'staff only')).toBe(false);
  });

  it('recognises a customer the business signed for, and refuses a forged signature', async () => {
    const customer = 'crm-4711';
    const signature = customerSignature(chat.signingSecret, customer);
    const forged = customerSignature('whsec_guess', customer);
    expect(
      await refusedStatus(
        connect(
          api.platform.url,
          { key: chat.publishableKey, customer, signature: forged },
          { origin: ORIGIN },
        ),
      ),
    ).toBe(401);
    expect(
      await refusedStatus(
        connect(
          api.platform.url,
          { key: chat.publishableKey, customer: 'crm-4712', signature },
          { origin: ORIGIN },
        ),
      ),
    ).toBe(401);
    const known = await client({ key: chat.publishableKey, customer, signature }, { origin: ORIGIN });
    expect(known.socket.readyState).toBe(1);
  });

  it('stops the old key at once when rotated', async () => {
    const rotated = await api.request('POST', `/v1/agents/${agentA}/web-chat/rotate`, {
      token: tenantA.token,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.publishableKey).not.toBe(chat.publishableKey);
    expect(rotated.body.signingSecret).not.toBe(chat.signingSecret);
    expect(
      await refusedStatus(connect(api.platform.url, { key: chat.publishableKey }, { origin: ORIGIN })),
    ).toBe(401);
    const visitor = await client({ key: rotated.body.publishableKey }, { origin: ORIGIN });
    expect(visitor.socket.readyState).toBe(1);
    chat = rotated.body;
  });

  it('lets a visitor talk in their own conversation, which no other visitor sees', async () => {
    const visitor = await client({ key: chat.publishableKey }, { origin: ORIGIN });
    const other = await client({ key: chat.publishableKey }, { origin: ORIGIN });
    visitor.send({ action: 'send_message', message: 'Do you take walk-ins?', requestId: 'm1' });
    const reply = await visitor.next((frame) => frame.type === 'agent_message');
    expect(reply.text).toContain('Walk-ins are welcome before noon');
    expect(visitor.frames.some((frame) => frame.type === 'agent_message_delta')).toBe(true);
    // Their own conversation: they may follow it, send in it again, and rate the reply.
    visitor.send({ action: 'subscribe', conversationId: reply.conversationId, requestId: 'm2' });
    expect(await visitor.next((frame) => frame.requestId === 'm2')).toMatchObject({ type: 'subscribed' });
    visitor.send({
      action: 'agent_feedback',
      conversationId: reply.conversationId,
      messageId: reply.messageId,
      rating: 'up',
      requestId: 'm3',
    });
    expect(await visitor.next((frame) => frame.requestId === 'm3')).toMatchObject({
      type: 'feedback_recorded',
    });
    // Another visitor of the same chat can neither follow nor write into it.
    other.send({ action: 'subscribe', conversationId: reply.conversationId, requestId: 'o1' });
    expect(await other.next((frame) => frame.requestId === 'o1')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });
    other.send({
      action: 'send_message',
      conversationId: reply.conversationId,
      message: 'hi',
      requestId: 'o2',
    });
    expect(await other.next((frame) => frame.requestId === 'o2')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });
    expect(
      other.frames.filter((frame) => frame.conversationId === reply.conversationId && frame.type !== 'error'),
    ).toEqual([]);
    // A visitor's context is not trusted: refused, naming the field.
    visitor.send({ action: 'send_message', message: 'hi', context: { vip: true }, requestId: 'm4' });
    expect(await visitor.next((frame) => frame.requestId === 'm4')).toMatchObject({
      type: 'error',
      message: expect.stringContaining('context'),
    });
  });

  it('recognises a signed customer across connections: the same customer, the same conversation', async () => {
    const customer = 'crm-9001';
    const signature = customerSignature(chat.signingSecret, customer);
    const first = await client({ key: chat.publishableKey, customer, signature }, { origin: ORIGIN });
    first.send({ action: 'send_message', message: 'Do you take walk-ins?' });
    const one = await first.next((frame) => frame.type === 'agent_message');
    const second = await client({ key: chat.publishableKey, customer, signature }, { origin: ORIGIN });
    second.send({ action: 'send_message', message: 'what is 2+2?' });
    const two = await second.next((frame) => frame.type === 'agent_message');
    expect(two.conversationId).toBe(one.conversationId);
    const conversation = await api.request('GET', `/v1/conversations/${one.conversationId}`, {
      token: tenantA.token,
    });
    expect(conversation.body).toMatchObject({ channel: 'web' });
  });

  it('makes a signed customer the same customer record the chat API reaches with that externalId', async () => {
    const customer = 'crm-5150';
    const signature = customerSignature(chat.signingSecret, customer);
    const visitor = await client({ key: chat.publishableKey, customer, signature }, { origin: ORIGIN });
    visitor.send({ action: 'send_message', message: 'Do you take walk-ins?' });
    const overSocket = await visitor.next((frame) => frame.type === 'agent_message');
    // The business's own backend, through the chat API, about the same customer.
    const overHttp = await api.request('POST', `/v1/agents/${agentA}/chat`, {
      token: tenantA.token,
      body: { message: 'what is 2+2?', channel: 'web', customer: { externalId: customer } },
    });
    expect(overHttp.status).toBe(200);
    const customerOf = async (conversationId: string) => {
      const conversation = await api.request('GET', `/v1/conversations/${conversationId}`, {
        token: tenantA.token,
      });
      expect(conversation.status).toBe(200);
      return conversation.body.customerId as string;
    };
    const socketCustomer = await customerOf(overSocket.conversationId);
    expect(socketCustomer).toMatch(/^cus/);
    expect(await customerOf(overHttp.body.conversationId)).toBe(socketCustomer);
    // And so the same conversation with this agent on the web channel: both turns in one history.
    expect(overHttp.body.conversationId).toBe(overSocket.conversationId);
    // An anonymous visitor is nobody the API can name.
    const anonymous = await client({ key: chat.publishableKey }, { origin: ORIGIN });
    anonymous.send({ action: 'send_message', message: 'Do you take walk-ins?' });
    const anonymousReply = await anonymous.next((frame) => frame.type === 'agent_message');
    expect(await customerOf(anonymousReply.conversationId)).not.toBe(socketCustomer);
  });

  it('refuses a customer id with a platform prefix, signed or given to the chat API', async () => {
    // An agent of its own, with its own key: these connections count against no other test's limits.
    const agentId = await activeAgent(tenantA.token, 'Shop');
    const setUp = await api.request('PUT', `/v1/agents/${agentId}/web-chat`, {
      token: tenantA.token,
      body: { allowedOrigins: [ORIGIN] },
    });
    const signed = (customer: string) => ({
      key: setUp.body.publishableKey,
      customer,
      signature: customerSignature(setUp.body.signingSecret, customer),
    });
    // The owner trying the agent is web customer `user:<id>`; an anonymous visitor `visitor:<random>`.
    const ownersOwn = `user:${tenantA.ownerId}`;
    for (const customer of [ownersOwn, 'visitor:abc']) {
      expect(await refusedStatus(connect(api.platform.url, signed(customer), { origin: ORIGIN }))).toBe(403);
    }
    // Not a rate limit: an id with the prefix further in is the business's, and let in.
    const business = await client(signed('crm-user:1'), { origin: ORIGIN });
    expect(business.socket.readyState).toBe(1);

    for (const externalId of [ownersOwn, 'visitor:abc', '  user:x']) {
      const refused = await api.request('POST', `/v1/agents/${agentId}/chat`, {
        token: tenantA.token,
        body: { message: 'hi', channel: 'web', customer: { externalId } },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.issues[0]).toMatchObject({
        field: 'body.customer.externalId',
        message: expect.stringContaining('"visitor:" or "user:"'),
      });
    }
    const allowed = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: tenantA.token,
      body: { message: 'hi', channel: 'web', customer: { externalId: 'crm-user:1' } },
    });
    expect(allowed.status).toBe(200);
  });

  it('limits new visitor connections per address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i += 1) {
      try {
        const socket = await connect(api.platform.url, { key: chat.publishableKey }, { origin: ORIGIN });
        statuses.push(200);
        await socket.close();
      } catch (error) {
        statuses.push((error as { status: number }).status);
      }
    }
    // 20 a minute per address: 45 attempts (a few seconds) span at most two one-minute windows,
    // so one of them holds more than 20, whenever the test starts.
    expect(statuses.filter((status) => status === 403).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 200 && status !== 403)).toEqual([]);
    // Signed-in users are not counted against the web chat's limits.
    const staff = await client({ token: tenantA.token });
    expect(staff.socket.readyState).toBe(1);
  });
});

/** Consecutive deltas read as one, so the order shows what a client sees. */
function timeline(frames: Frame[]): string[] {
  const types: string[] = [];
  for (const frame of frames) {
    const label =
      frame.type === 'tool_execution' ? `tool_execution:${frame.tool}:${frame.status}` : frame.type;
    if (label === 'agent_message_delta' && types.at(-1) === label) continue;
    types.push(label);
  }
  return types;
}

describe('a chat over the socket', () => {
  it('shows thinking, the tool run, the streamed reply and the final message, in order', async () => {
    const socket = await client({ token: tenantA.token });
    socket.send({ action: 'send_message', agentId: agentA, message: 'what is 12*(3+4)?', requestId: 's1' });
    expect(await socket.next((frame) => frame.requestId === 's1')).toMatchObject({
      type: 'message_accepted',
    });
    const done = await socket.next((frame) => frame.type === 'agent_message');
    const turn = socket.frames.filter((frame) => frame.executionId === done.executionId);
    expect(timeline(turn)).toEqual([
      'agent_thinking',
      'tool_execution:calculator:started',
      'tool_execution:calculator:succeeded',
      'agent_thinking',
      'agent_message_delta',
      'agent_message',
    ]);
    expect(turn.map((frame) => frame.seq)).toEqual(turn.map((_, i) => i + 1));
    const deltas = turn.filter((frame) => frame.type === 'agent_message_delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((frame) => frame.text).join('')).toBe(done.text);
    expect(done.text).toContain('84');
    expect(done).toMatchObject({ agentId: agentA, messageId: `${done.executionId}#2` });
    for (const frame of turn) expect(frame.conversationId).toBe(done.conversationId);

    // The sender follows the conversation from then on; the turn is stored like any other.
    const messages = await api.request('GET', `/v1/conversations/${done.conversationId}/messages`, {
      token: tenantA.token,
    });
    expect(messages.body.items.at(-1)).toMatchObject({ role: 'assistant', content: done.text });

    // Feedback on the agent's message is stored and counted in the agent's stats.
    const before = await api.request('GET', `/v1/agents/${agentA}/stats`, { token: tenantA.token });
    socket.send({
      action: 'agent_feedback',
      conversationId: done.conversationId,
      messageId: done.messageId,
      rating: 'down',
      note: 'Too terse',
      requestId: 'f1',
    });
    expect(await socket.next((frame) => frame.requestId === 'f1')).toMatchObject({
      type: 'feedback_recorded',
      rating: 'down',
    });
    // Changing one's mind moves the count; the same rating again counts nothing.
    socket.send({
      action: 'agent_feedback',
      conversationId: done.conversationId,
      messageId: done.messageId,
      rating: 'up',
      requestId: 'f2',
    });
    await socket.next((frame) => frame.requestId === 'f2');
    socket.send({
      action: 'agent_feedback',
      conversationId: done.conversationId,
      messageId: done.messageId,
      rating: 'up',
      requestId: 'f3',
    });
    await socket.next((frame) => frame.requestId === 'f3');
    const after = await api.request('GET', `/v1/agents/${agentA}/stats`, { token: tenantA.token });
    expect(after.body.feedback).toEqual({ up: before.body.feedback.up + 1, down: before.body.feedback.down });

    // Not on a message of another conversation, nor from another tenant.
    socket.send({
      action: 'agent_feedback',
      conversationId: 'cnv_01J00000000000000000000000',
      messageId: done.messageId,
      rating: 'up',
      requestId: 'f4',
    });
    expect(await socket.next((frame) => frame.requestId === 'f4')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });
    const intruder = await client({ token: tenantB.token });
    intruder.send({
      action: 'agent_feedback',
      conversationId: done.conversationId,
      messageId: done.messageId,
      rating: 'down',
      requestId: 'f5',
    });
    expect(await intruder.next((frame) => frame.requestId === 'f5')).toMatchObject({
      type: 'error',
      code: 'NOT_FOUND',
    });
  });

  it('brings an approval request and its decision to a subscribed coordinator', async () => {
    const created = await api.request('POST', '/v1/agents', {
      token: tenantA.token,
      body: { ...agentBody('Till'), tools: ['take_payment'] },
    });
    await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: tenantA.token });
    const coordinator = await userWithRole(api, tenantA.token, 'coordinator');
    const watching = await client({ token: coordinator.token });
    watching.send({ action: 'subscribe', agentId: created.body.id, requestId: 'c1' });
    await watching.next((frame) => frame.requestId === 'c1' && frame.type === 'subscribed');

    const customer = await client({ token: tenantA.token });
    customer.send({
      action: 'send_message',
      agentId: created.body.id,
      message: 'charge 49.99 USD for a cleaning',
    });
    const requested = await watching.next((frame) => frame.type === 'approval_requested');
    expect(requested).toMatchObject({ action: 'take_payment', agentId: created.body.id });
    await watching.next(
      (frame) => frame.type === 'agent_message' && frame.executionId === requested.executionId,
    );

    const approved = await api.request('POST', `/v1/approvals/${requested.approvalId}/approve`, {
      token: coordinator.token,
    });
    expect(approved.status).toBe(200);
    const decided = await watching.next((frame) => frame.type === 'approval_decided');
    expect(decided).toMatchObject({
      approvalId: requested.approvalId,
      decision: 'approved',
      conversationId: requested.conversationId,
    });
  });

  it('tells a subscribed coordinator of the approval and the suggestion an emergency stop cancelled', async () => {
    const owner = await registerTenant(api);
    await topUp(api, owner.token, 1_000);
    const created = await api.request('POST', '/v1/agents', {
      token: owner.token,
      body: { ...agentBody('Front desk'), tools: ['take_payment', 'send_email'] },
    });
    await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token });
    const agentId = created.body.id as string;
    await api.request('PUT', '/v1/policies', {
      token: owner.token,
      body: { rules: [{ action: 'send_email', level: 'suggestion' }] },
    });
    const payment = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'charge 49.99 USD for a cleaning' },
    });
    const [approval] = payment.body.actions;
    expect(approval).toMatchObject({ status: 'awaiting_approval' });
    const email = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'email ana@example.test about Order 7 saying It shipped' },
    });
    const [suggestion] = email.body.actions;
    expect(suggestion).toMatchObject({ status: 'awaiting_confirmation' });

    const coordinator = await userWithRole(api, owner.token, 'coordinator');
    const watching = await client({ token: coordinator.token });
    watching.send({ action: 'subscribe', agentId, requestId: 's1' });
    await watching.next((frame) => frame.requestId === 's1' && frame.type === 'subscribed');

    const stopped = await api.request('POST', `/v1/agents/${agentId}/emergency-stop`, { token: owner.token });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ cancelledApprovals: 1, cancelledSuggestions: 1 });
    // Delivered before the call returned: the frames are on the socket already or on their way.
    const approvalCancelled = await watching.next(
      (frame) => frame.type === 'agent_action' && frame.actionId === approval.actionId,
    );
    expect(approvalCancelled).toMatchObject({
      action: 'take_payment',
      level: 'approval',
      outcome: 'cancelled',
      agentId,
      conversationId: payment.body.conversationId,
    });
    expect(
      await watching.next(
        (frame) => frame.type === 'approval_decided' && frame.approvalId === approval.approvalId,
      ),
    ).toMatchObject({ decision: 'cancelled', conversationId: payment.body.conversationId });
    expect(
      await watching.next((frame) => frame.type === 'agent_action' && frame.actionId === suggestion.actionId),
    ).toMatchObject({
      action: 'send_email',
      level: 'suggestion',
      outcome: 'cancelled',
      agentId,
      conversationId: email.body.conversationId,
    });
  });
});
