import {
  AGENT_REPLY_ID,
  APPLE_MAIL_REPLY,
  GMAIL_REPLY,
  MAILBOX,
  OUTLOOK_HTML_ONLY,
  OUTLOOK_REPLY,
  plainEmail,
  sesStored,
  WITH_ATTACHMENT,
} from '../../../test/support/email-messages';
import { EMAIL_TEXT_MAX_CHARS, type EmailIntake, readInboundEmail } from './inbound-email';

const SOURCE = 's3://acme-inbound-mail/inbound/9ui4k2b7j1h0g3f5e6d7c8b9a0';
const local = { source: 'dev-inbound', requireSesVerdicts: false } as const;
const aws = { source: SOURCE, requireSesVerdicts: true, receivingDomains: ['acme-dental.example'] } as const;

function messagesOf(intake: EmailIntake) {
  if (intake.kind !== 'messages') throw new Error(`dropped: ${JSON.stringify(intake.drop)}`);
  return intake.messages;
}
async function only(raw: string, options: Parameters<typeof readInboundEmail>[1] = local) {
  const [message, ...others] = messagesOf(await readInboundEmail(raw, options));
  expect(others).toEqual([]);
  if (!message) throw new Error('no message');
  return message;
}
async function dropOf(raw: string, options: Parameters<typeof readInboundEmail>[1] = aws) {
  const intake = await readInboundEmail(raw, options);
  if (intake.kind !== 'dropped') throw new Error('not dropped');
  return intake.drop;
}

describe('readInboundEmail: real client messages', () => {
  it('reads a Gmail reply: the mailbox, the customer, their own text, the thread', async () => {
    const message = await only(GMAIL_REPLY);
    expect(message).toEqual({
      channel: 'email',
      agentAddress: MAILBOX,
      customerAddress: 'jane.doe@gmail.example',
      customerName: 'Jane Doe',
      text: 'Thursday at 10 works for me — thanks!',
      attachments: [],
      providerMessageId: 'CAF2c2bbb+Xy=Z@mail.gmail.com',
      sentAt: '2026-12-01T10:05:12.000Z',
      replyContext: {
        messageId: '<CAF2c2bbb+Xy=Z@mail.gmail.com>',
        references: `<CAF1c1aaa@mail.gmail.com> ${AGENT_REPLY_ID}`,
        threadId: '<CAF1c1aaa@mail.gmail.com>',
        subject: 'Re: Booking on Thursday',
      },
    });
  });

  it('reads an Outlook reply without its quoted header block, rule or mobile footer', async () => {
    const message = await only(OUTLOOK_REPLY);
    expect(message.text).toBe('Could we move it to 11 instead?\n\nJohn');
    expect(message.customerAddress).toBe('john.smith@contoso.example');
    expect(message.customerName).toBe('Smith, John');
    expect(message.replyContext?.threadId).toBe(AGENT_REPLY_ID);
  });

  it('converts an HTML-only Outlook message to text, skipping its reply header and the quote', async () => {
    const message = await only(OUTLOOK_HTML_ONLY);
    expect(message.text).toBe('Could we move it to 11 instead?');
  });

  it('reads an Apple Mail reply: encoded name, emoji, quoted attribution dropped', async () => {
    const message = await only(APPLE_MAIL_REPLY);
    expect(message.customerName).toBe('Zoë Müller');
    expect(message.text).toBe('Perfect, see you then. 😊');
    expect(message.sentAt).toBe('2026-12-01T10:02:03.000Z');
    expect(message.replyContext?.threadId).toBe('<first-zoe@icloud.example>');
  });

  it('keeps attachments as references into the stored message, not their bytes; skips inline logos', async () => {
    const message = await only(sesStored(WITH_ATTACHMENT), aws);
    expect(message.text).toBe('Here is the X-ray you asked for.');
    expect(message.attachments).toEqual([
      { ref: `${SOURCE}#part=2`, contentType: 'application/pdf', name: 'x-ray.pdf', sizeBytes: 22 },
    ]);
    expect(JSON.stringify(message)).not.toContain(Buffer.from('%PDF').toString('base64').slice(0, 4));
  });

  it('on AWS: only mailboxes at the receiving domain, the envelope recipient first', async () => {
    // Sent To someone else and Cc the agent: the Cc'd mailbox is ours, the other is not.
    const messages = messagesOf(await readInboundEmail(sesStored(WITH_ATTACHMENT), aws));
    expect(messages.map((message) => message.agentAddress)).toEqual([MAILBOX]);

    const bccd = sesStored(
      GMAIL_REPLY.replace('Help@Acme-Dental.example', 'bob@elsewhere.example'),
      {},
      'sales@acme-dental.example',
    );
    const candidates = messagesOf(await readInboundEmail(bccd, aws)).map((message) => message.agentAddress);
    expect(candidates).toEqual(['sales@acme-dental.example']);
  });

  it('in local mode: every recipient is a candidate, To before Cc', async () => {
    const messages = messagesOf(await readInboundEmail(WITH_ATTACHMENT, local));
    expect(messages.map((message) => message.agentAddress)).toEqual(['someone@elsewhere.example', MAILBOX]);
    expect(new Set(messages.map((message) => message.providerMessageId)).size).toBe(1);
  });

  it('starts a thread with a first message and uses the subject when the body is empty', async () => {
    const message = await only(
      plainEmail({
        from: 'jane@example.com',
        to: MAILBOX,
        subject: 'Are you open on Saturday?',
        messageId: '<new-1@example.com>',
        text: '',
      }),
    );
    expect(message.text).toBe('Are you open on Saturday?');
    expect(message.replyContext).toEqual({
      messageId: '<new-1@example.com>',
      references: '',
      threadId: '<new-1@example.com>',
      subject: 'Are you open on Saturday?',
    });
  });

  it('gives a message without a Message-ID a stable one from its bytes (a redelivery dedups)', async () => {
    const raw = plainEmail({ from: 'a@b.example', to: MAILBOX, subject: 's', messageId: '', text: 'hi' });
    const first = await only(raw);
    const again = await only(raw);
    expect(first.providerMessageId).toMatch(/^[0-9a-f]{64}@message-id\.invalid$/);
    expect(again.providerMessageId).toBe(first.providerMessageId);
  });

  it(`clips a long text to ${EMAIL_TEXT_MAX_CHARS} characters`, async () => {
    const raw = plainEmail({
      from: 'a@b.example',
      to: MAILBOX,
      subject: 's',
      messageId: '<l@b>',
      text: 'x'.repeat(20_000),
    });
    expect((await only(raw)).text).toHaveLength(EMAIL_TEXT_MAX_CHARS);
  });
});

describe('readInboundEmail: what is dropped, and why', () => {
  const stored = (verdicts: Parameters<typeof sesStored>[1]) => sesStored(GMAIL_REPLY, verdicts);

  it('accepts a scanned, authenticated message on AWS', async () => {
    expect((await only(stored({}), aws)).agentAddress).toBe(MAILBOX);
  });

  it.each([
    [{ spam: 'FAIL' }, 'spam'],
    [{ virus: 'FAIL' }, 'virus'],
    [{ virus: 'GRAY' }, 'virus'],
    [{ dmarc: 'fail' }, 'dmarc'],
    [{ spf: 'fail', dkim: 'fail', dmarc: 'none' }, 'unauthenticated'],
    [{ spf: 'softfail', dkim: 'none', dmarc: 'none' }, 'unauthenticated'],
  ])('drops %j as %s', async (verdicts, reason) => {
    expect(await dropOf(stored(verdicts))).toMatchObject({ reason });
  });

  it('passes GRAY spam and either of SPF or DKIM when DMARC does not fail', async () => {
    expect((await only(stored({ spam: 'GRAY' }), aws)).agentAddress).toBe(MAILBOX);
    expect((await only(stored({ spf: 'fail', dmarc: 'none' }), aws)).agentAddress).toBe(MAILBOX);
    expect((await only(stored({ dkim: 'fail', dmarc: 'none' }), aws)).agentAddress).toBe(MAILBOX);
  });

  it('on AWS drops a message SES did not scan; in local mode it is the norm', async () => {
    expect(await dropOf(GMAIL_REPLY)).toMatchObject({ reason: 'unscanned' });
    expect((await only(GMAIL_REPLY, local)).agentAddress).toBe(MAILBOX);
  });

  it('ignores verdict headers the sender wrote into their own message below SES’s', async () => {
    const forged = sesStored(`X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n${GMAIL_REPLY}`, {
      spam: 'FAIL',
    });
    expect(await dropOf(forged)).toMatchObject({ reason: 'spam' });
    const forgedResults = sesStored(
      `Authentication-Results: amazonses.com; spf=pass; dkim=pass; dmarc=pass\r\n${GMAIL_REPLY}`,
      { spf: 'fail', dkim: 'fail', dmarc: 'fail' },
    );
    expect(await dropOf(forgedResults)).toMatchObject({ reason: 'dmarc' });
  });

  it.each([
    ['Auto-Submitted: auto-replied'],
    ['Auto-Submitted: auto-generated'],
    ['Precedence: bulk'],
    ['X-Autoreply: yes'],
    ['Return-Path: <>'],
  ])('drops an automatic message (%s), so the agent never talks to an out-of-office', async (header) => {
    const raw = plainEmail({
      from: 'jane@example.com',
      to: MAILBOX,
      subject: 'Out of office',
      messageId: '<ooo@example.com>',
      text: 'I am away until Monday.',
      headers: [header],
    });
    expect(await dropOf(raw, local)).toMatchObject({ reason: 'auto-reply' });
  });

  it('keeps a message whose Auto-Submitted says no', async () => {
    const raw = plainEmail({
      from: 'jane@example.com',
      to: MAILBOX,
      subject: 'Hi',
      messageId: '<no-auto@example.com>',
      text: 'Hello',
      headers: ['Auto-Submitted: no'],
    });
    expect((await only(raw)).text).toBe('Hello');
  });

  it('drops a bounce from the mail system', async () => {
    const raw = plainEmail({
      from: 'MAILER-DAEMON@mx.example',
      to: MAILBOX,
      subject: 'Undelivered',
      messageId: '<b@mx>',
      text: 'x',
    });
    expect(await dropOf(raw, local)).toMatchObject({ reason: 'auto-reply' });
  });

  it('drops what is not a message from someone', async () => {
    expect(await dropOf('just some bytes', local)).toMatchObject({ reason: 'malformed' });
    const noText = plainEmail({
      from: 'a@b.example',
      to: MAILBOX,
      subject: '',
      messageId: '<e@b>',
      text: '',
    });
    expect(await dropOf(noText, local)).toMatchObject({ reason: 'empty' });
  });
});
