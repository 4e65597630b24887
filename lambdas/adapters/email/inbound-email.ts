import { createHash } from 'node:crypto';
import { htmlToText } from 'html-to-text';
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { channelAddress, type InboundAttachment, type InboundMessage } from '../../domain/channels/model';
import { autoReplyDrop, type Drop, type HeaderLine, sesVerdictsOf, verdictDrop } from './admission';
import { stripQuotedHistory } from './quoted-history';
import { messageIdsIn, threadOf } from './threading';

/** The chat routes' limit on a message (routes/runtime.ts), for the same turn. */
export const EMAIL_TEXT_MAX_CHARS = 8000;
/** References kept per message; a mail with hundreds of parts is not a customer writing. */
const ATTACHMENTS_MAX = 20;
const SUBJECT_MAX_CHARS = 300;

export interface InboundEmailOptions {
  /**
   * Where the raw message is kept, for the attachments' references (`<source>#part=<MIME part>`):
   * `s3://<bucket>/<key>` on AWS, where SES wrote it.
   */
  readonly source: string;
  /** On AWS, where the receipt rule scans every message: SES's verdicts must be there and pass. */
  readonly requireSesVerdicts: boolean;
  /** Only mailboxes at these domains can be agents' (the receiving domains); any when absent. */
  readonly receivingDomains?: readonly string[];
  readonly now?: () => Date;
}

/**
 * What a received email amounts to: the message for each mailbox of ours it was sent to, best
 * candidate first (the envelope recipient, then `Delivered-To`, `To`, `Cc`), or why it is dropped.
 * Each candidate carries the same `providerMessageId` (the Message-ID): the first mailbox that
 * routes to an agent takes the message, and a second copy of it is a duplicate.
 */
export type EmailIntake =
  | { readonly kind: 'messages'; readonly messages: readonly InboundMessage[] }
  | { readonly kind: 'dropped'; readonly drop: EmailDrop };

export type EmailDrop = Drop | { readonly reason: 'malformed' | 'empty'; readonly detail: string };

/**
 * A raw RFC 5322 message (as SES stored it, or as posted to the local dev route) to the
 * InboundMessage(s) the pipeline takes: the agent's mailbox it was sent to, the customer (From),
 * the customer's own text (quoted history, signature and footers cut; HTML-only mail converted),
 * attachments as references into the stored message (never their bytes) and, for the reply, the
 * threading headers and subject.
 */
export async function readInboundEmail(
  raw: Buffer | string,
  options: InboundEmailOptions,
): Promise<EmailIntake> {
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, {
      // Only the text is used: no HTML rendering of text parts, no link detection, no data: URLs
      // for inline images, no checksums, and HTML is converted here (quotations skipped).
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      keepCidLinks: true,
      checksumAlgo: false,
    });
  } catch {
    return dropped('malformed', 'not an RFC 5322 message');
  }
  const headerLines: readonly HeaderLine[] = parsed.headerLines;
  const from = parsed.from?.value.find((mailbox) => mailbox.address);
  const fromAddress = from?.address;
  if (!from || !fromAddress?.includes('@')) return dropped('malformed', 'no From address');
  const customerAddress = channelAddress('email', fromAddress);

  const verdict = verdictDrop(sesVerdictsOf(headerLines), { required: options.requireSesVerdicts });
  if (verdict) return { kind: 'dropped', drop: verdict };
  const autoReply = autoReplyDrop(headerLines, customerAddress);
  if (autoReply) return { kind: 'dropped', drop: autoReply };

  const subject = (parsed.subject ?? '').replace(/\s+/g, ' ').trim().slice(0, SUBJECT_MAX_CHARS);
  const text = clip(ownText(parsed) || subject);
  const attachments = attachmentsOf(parsed, options.source);
  if (text === '' && attachments.length === 0) return dropped('empty', 'no text, subject or attachment');

  const messageId = messageIdsIn(parsed.messageId)[0] ?? syntheticMessageId(raw);
  const thread = threadOf({
    messageId,
    ...(parsed.inReplyTo ? { inReplyTo: parsed.inReplyTo } : {}),
    ...(parsed.references ? { references: parsed.references } : {}),
  });
  const sentAt = validDate(parsed.date) ?? (options.now?.() ?? new Date()).toISOString();

  const messages = mailboxesOf(parsed, headerLines, options.receivingDomains).map(
    (agentAddress): InboundMessage => ({
      channel: 'email',
      agentAddress,
      customerAddress,
      ...(from.name ? { customerName: from.name.slice(0, 200) } : {}),
      text,
      attachments,
      providerMessageId: thread.messageId.slice(1, -1),
      sentAt,
      replyContext: {
        messageId: thread.messageId,
        references: thread.references.join(' '),
        threadId: thread.threadId,
        subject,
      },
    }),
  );
  return { kind: 'messages', messages };
}

function dropped(reason: 'malformed' | 'empty', detail: string): EmailIntake {
  return { kind: 'dropped', drop: { reason, detail } };
}

/** The customer's text: the plain-text part, or the HTML one converted with its quotations skipped. */
function ownText(parsed: ParsedMail): string {
  const plain = parsed.text?.trim();
  if (plain) return stripQuotedHistory(plain);
  if (!parsed.html) return '';
  const converted = htmlToText(parsed.html, {
    wordwrap: false,
    limits: { maxDepth: 50 },
    selectors: [
      // Gmail's quoted history, Apple Mail's and Thunderbird's cited message, Outlook's reply header.
      { selector: 'div.gmail_quote', format: 'skip' },
      { selector: 'blockquote', format: 'skip' },
      { selector: 'div#divRplyFwdMsg', format: 'skip' },
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
    ],
  });
  return stripQuotedHistory(converted);
}

function clip(text: string): string {
  return text.length <= EMAIL_TEXT_MAX_CHARS ? text : `${text.slice(0, EMAIL_TEXT_MAX_CHARS - 1)}…`;
}

/**
 * Files the customer attached, by reference. Inline images of the HTML (signature logos, which
 * `related` marks) are not something the customer sent to the agent.
 */
function attachmentsOf(parsed: ParsedMail, source: string): InboundAttachment[] {
  return parsed.attachments
    .filter((attachment) => !attachment.related)
    .slice(0, ATTACHMENTS_MAX)
    .map((attachment, index) => ({
      ref: `${source}#part=${attachment.partId ?? index + 1}`,
      contentType: attachment.contentType,
      ...(attachment.filename ? { name: attachment.filename.slice(0, 255) } : {}),
      sizeBytes: attachment.size,
    }));
}

/**
 * The mailboxes this message was delivered to, best evidence first: the envelope recipient SES
 * (or the last relay) recorded in the topmost `Received: … for <x>`, `Delivered-To` /
 * `X-Original-To`, then `To` and `Cc`. Lower-case, each once, limited to the receiving domains.
 */
function mailboxesOf(
  parsed: ParsedMail,
  headerLines: readonly HeaderLine[],
  receivingDomains: readonly string[] | undefined,
): string[] {
  const candidates: string[] = [];
  const received = headerLines.find((header) => header.key === 'received');
  const envelope = received?.line.match(/\bfor\s+<?([^\s<>;]+@[^\s<>;]+?)>?\s*;/i)?.[1];
  if (envelope) candidates.push(envelope);
  for (const header of headerLines) {
    if (header.key === 'delivered-to' || header.key === 'x-original-to') {
      candidates.push(header.line.slice(header.line.indexOf(':') + 1).trim());
    }
  }
  for (const field of [parsed.to, parsed.cc]) {
    for (const group of addressObjects(field)) {
      for (const mailbox of group.value) {
        if (mailbox.address) candidates.push(mailbox.address);
        for (const member of mailbox.group ?? []) if (member.address) candidates.push(member.address);
      }
    }
  }
  const domains = receivingDomains?.map((domain) => domain.toLowerCase());
  const mailboxes: string[] = [];
  for (const candidate of candidates) {
    const mailbox = channelAddress('email', candidate.replace(/^<|>$/g, ''));
    if (!/^[^\s@]+@[^\s@]+$/.test(mailbox) || mailboxes.includes(mailbox)) continue;
    if (domains && domains.length > 0 && !domains.includes(mailbox.slice(mailbox.lastIndexOf('@') + 1))) {
      continue;
    }
    mailboxes.push(mailbox);
  }
  return mailboxes;
}

function addressObjects(field: AddressObject | AddressObject[] | undefined): AddressObject[] {
  if (!field) return [];
  return Array.isArray(field) ? field : [field];
}

/** A message without a Message-ID (rare, but legal) gets one from its bytes: a redelivery has the same. */
function syntheticMessageId(raw: Buffer | string): string {
  return `<${createHash('sha256').update(raw).digest('hex')}@message-id.invalid>`;
}

function validDate(date: Date | undefined): string | undefined {
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}
