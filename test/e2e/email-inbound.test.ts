/**
 * Email in and out, end to end over HTTP against local mode: a raw RFC 5322 message posted to
 * `POST /v1/dev/email/inbound` (what SES → S3 → Lambda does on AWS) reaches the agent whose
 * mailbox it was sent to; the scripted model answers; the reply lands in the local outbox as SES
 * would send it, threaded under the customer's message.
 */

import { randomUUID } from 'node:crypto';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';
import { APPLE_MAIL_REPLY, plainEmail } from '../support/email-messages';

let api: ApiClient;

beforeAll(async () => {
  api = await startApi();
}, 60_000);
afterAll(async () => {
  await api.platform.stop();
});

async function agentWithMailbox() {
  const owner = await registerTenant(api);
  await topUp(api, owner.token, 5_000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: agentBody('Front desk'),
  });
  expect(created.status).toBe(201);
  const agentId = created.body.id as string;
  expect((await api.request('POST', `/v1/agents/${agentId}/start`, { token: owner.token })).status).toBe(200);
  const mailbox = `help-${randomUUID().slice(0, 8)}@acme-dental.example`;
  const channel = await api.request('PUT', `/v1/agents/${agentId}/channels/email`, {
    token: owner.token,
    body: { address: mailbox, enabled: true },
  });
  expect(channel.status).toBe(200);
  return { owner, agentId, mailbox };
}

const postEmail = (raw: string) =>
  api.request('POST', '/v1/dev/email/inbound', {
    rawBody: raw,
    headers: { 'content-type': 'message/rfc822' },
  });

async function emailsIn(token: string) {
  const response = await api.request('GET', '/v1/dev/outbox?kind=email&limit=100', { token });
  expect(response.status).toBe(200);
  return response.body.items as Record<string, string>[];
}

async function waitForEmails(token: string, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const items = await emailsIn(token);
    if (items.length >= count || Date.now() > deadline) return items;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('email to an agent’s mailbox', () => {
  it('is answered in the local outbox, threaded under the customer’s message; a reply continues the thread', async () => {
    const { owner, mailbox } = await agentWithMailbox();
    const first = plainEmail({
      from: 'Jane Doe <Jane.Doe@Example.com>',
      to: `Acme Dental <${mailbox.toUpperCase()}>`,
      subject: 'Opening hours',
      messageId: `<first-${randomUUID()}@mail.example.com>`,
      text: 'Hello, when are you open?',
    });
    const posted = await postEmail(first);
    expect(posted.status).toBe(202);
    expect(posted.body).toEqual({ status: 'queued' });

    const [reply] = await waitForEmails(owner.token, 1);
    const firstId = first.match(/^Message-ID: (.+)$/m)?.[1]?.trim() as string;
    expect(reply).toMatchObject({
      kind: 'email',
      from: mailbox,
      to: 'jane.doe@example.com',
      subject: 'Re: Opening hours',
      inReplyTo: firstId,
      references: firstId,
    });
    expect(reply?.body?.length).toBeGreaterThan(0);

    // The customer answers the agent's reply (SES gave it its own Message-ID).
    const agentReplyId = '<0100018f-agent-reply@email.amazonses.com>';
    const second = plainEmail({
      from: 'jane.doe@example.com',
      to: mailbox,
      subject: 'Re: Opening hours',
      messageId: `<second-${randomUUID()}@mail.example.com>`,
      inReplyTo: agentReplyId,
      references: `${firstId} ${agentReplyId}`,
      text: `And on Saturday?\n\nOn Tue, Dec 1, 2026 at 10:00 AM Acme <${mailbox}> wrote:\n> We are open 9-17.`,
    });
    expect((await postEmail(second)).status).toBe(202);
    const emails = await waitForEmails(owner.token, 2);
    const secondId = second.match(/^Message-ID: (.+)$/m)?.[1]?.trim() as string;
    expect(emails[0]).toMatchObject({
      subject: 'Re: Opening hours',
      inReplyTo: secondId,
      references: `${firstId} ${agentReplyId} ${secondId}`,
    });

    // One conversation: the customer's two emails (quoted history stripped) and the two answers.
    const conversations = await api.request('GET', '/v1/conversations?limit=10', { token: owner.token });
    expect(conversations.status).toBe(200);
    const emailConversations = (conversations.body.items as { id: string; channel: string }[]).filter(
      (conversation) => conversation.channel === 'email',
    );
    expect(emailConversations).toHaveLength(1);
    const messages = await api.request(
      'GET',
      `/v1/conversations/${emailConversations[0]?.id}/messages?limit=20`,
      {
        token: owner.token,
      },
    );
    expect(messages.status).toBe(200);
    const userTexts = (messages.body.items as { role: string; content: string }[])
      .filter((message) => message.role === 'user')
      .map((message) => message.content);
    expect(userTexts.sort()).toEqual(['And on Saturday?', 'Hello, when are you open?']);
  });

  it('takes a real client’s multi-part message (Apple Mail) to the mailbox it was sent to', async () => {
    const { owner, mailbox } = await agentWithMailbox();
    const raw = APPLE_MAIL_REPLY.replace(/help@acme-dental\.example/g, mailbox).replace(
      /Message-Id: <[^>]+>/,
      `Message-Id: <${randomUUID()}@icloud.example>`,
    );
    expect((await postEmail(raw)).status).toBe(202);
    const [reply] = await waitForEmails(owner.token, 1);
    expect(reply).toMatchObject({ to: 'zoe@icloud.example', subject: 'Re: Booking on Thursday' });
    expect(reply?.references?.split(' ')[0]).toBe('<first-zoe@icloud.example>');
  });

  it('answers the same Message-ID once', async () => {
    const { owner, mailbox } = await agentWithMailbox();
    const raw = plainEmail({
      from: 'sam@example.com',
      to: mailbox,
      subject: 'Hours',
      messageId: `<dup-${randomUUID()}@example.com>`,
      text: 'When are you open?',
    });
    expect((await postEmail(raw)).body).toEqual({ status: 'queued' });
    expect((await postEmail(raw)).body).toEqual({ status: 'duplicate' });
    await waitForEmails(owner.token, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await emailsIn(owner.token)).toHaveLength(1);
  });

  it('refuses mail for a mailbox no agent answers: 404, nothing stored or answered', async () => {
    const { owner, mailbox } = await agentWithMailbox();
    const messageId = `<nobody-${randomUUID()}@example.com>`;
    const raw = plainEmail({
      from: 'sam@example.com',
      to: `nobody-${mailbox}`,
      subject: 'Hi',
      messageId,
      text: 'Anyone there?',
    });
    const refused = await postEmail(raw);
    expect(refused.status).toBe(404);
    expect(refused.text).not.toContain(mailbox);
    // Nothing was claimed: once the mailbox exists, the same message is taken.
    const delivered = await postEmail(raw.replace(`To: nobody-${mailbox}`, `To: ${mailbox}`));
    expect(delivered.body).toEqual({ status: 'queued' });
    await waitForEmails(owner.token, 1);
  });

  it('drops an auto-reply without answering it (no mail loop), and refuses a body that is no email', async () => {
    const { owner, mailbox } = await agentWithMailbox();
    const autoReply = plainEmail({
      from: 'sam@example.com',
      to: mailbox,
      subject: 'Out of office',
      messageId: `<ooo-${randomUUID()}@example.com>`,
      text: 'I am away until Monday.',
      headers: ['Auto-Submitted: auto-replied'],
    });
    const dropped = await postEmail(autoReply);
    expect(dropped.status).toBe(202);
    expect(dropped.body).toEqual({ status: 'dropped', reason: 'auto-reply' });

    const garbage = await postEmail('this is not an email');
    expect(garbage.status).toBe(400);
    expect(garbage.text).toContain('body');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await emailsIn(owner.token)).toEqual([]);
  });
});
