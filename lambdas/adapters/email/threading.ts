/**
 * Email threading (RFC 5322 §3.6.4): a message's `Message-ID`, the `In-Reply-To` it answers and
 * the `References` chain back to the thread's first message. The agent's reply carries
 * `In-Reply-To: <the customer's Message-ID>` and `References: <their chain> <their Message-ID>`, so
 * that the customer's client shows it in the same thread, and the customer's next reply names
 * the same first message: `threadId`, stable across the whole exchange even though SES gives the
 * agent's replies Message-IDs of its own (it overrides any we set).
 */

/** One msg-id, angle brackets included, printable ASCII without spaces (as SES headers must be). */
const MESSAGE_ID = /<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>/g;

/** SES header values are at most 995 characters; `References: ` plus the value stays under 996. */
const REFERENCES_MAX_CHARS = 980;

/** The msg-ids in a header value (or values), in order, each once. */
export function messageIdsIn(value: string | readonly string[] | undefined): string[] {
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  const ids: string[] = [];
  for (const part of values) {
    for (const match of part.matchAll(MESSAGE_ID)) {
      if (!ids.includes(match[0])) ids.push(match[0]);
    }
  }
  return ids;
}

export interface EmailThread {
  /** This message's own id (`<…>`). */
  readonly messageId: string;
  /** The chain this message continues, oldest first, without its own id. */
  readonly references: readonly string[];
  /** The first message of the thread: the chain's root, or this message when it starts one. */
  readonly threadId: string;
}

/**
 * Where a received message sits in its thread. A client that sends only `In-Reply-To` (some do)
 * still continues the thread: that id then counts as the chain.
 */
export function threadOf(headers: {
  readonly messageId: string;
  readonly inReplyTo?: string | readonly string[];
  readonly references?: string | readonly string[];
}): EmailThread {
  const [messageId] = messageIdsIn(headers.messageId);
  if (!messageId) throw new Error('threadOf needs a Message-ID');
  const chain = messageIdsIn(headers.references);
  for (const parent of messageIdsIn(headers.inReplyTo)) {
    if (!chain.includes(parent)) chain.push(parent);
  }
  const references = chain.filter((id) => id !== messageId);
  return { messageId, references, threadId: references[0] ?? messageId };
}

/** The headers of a reply to `thread`: In-Reply-To its message, References its chain plus it. */
export function replyHeaders(thread: Pick<EmailThread, 'messageId' | 'references'>): {
  readonly inReplyTo: string;
  readonly references: string;
} {
  return {
    inReplyTo: thread.messageId,
    references: boundedReferences([...thread.references, thread.messageId]),
  };
}

/**
 * The chain joined, within SES's header limit: as RFC 5322 §3.6.4 suggests for long threads, the
 * first id (the root, which threads the conversation) and as many of the latest as fit.
 */
function boundedReferences(chain: readonly string[]): string {
  const joined = chain.join(' ');
  if (joined.length <= REFERENCES_MAX_CHARS || chain.length < 2) return joined;
  const [root, ...rest] = chain as [string, ...string[]];
  const kept: string[] = [];
  let length = root.length;
  for (let index = rest.length - 1; index >= 0; index--) {
    const id = rest[index] as string;
    if (length + 1 + id.length > REFERENCES_MAX_CHARS) break;
    kept.unshift(id);
    length += 1 + id.length;
  }
  return [root, ...kept].join(' ');
}

/** `Re: <subject>`, once: replies to replies do not grow `Re: Re: Re:` (nor `RE:`, `Aw:`, `Sv:`). */
export function replySubject(subject: string | undefined): string {
  const base = (subject ?? '').replace(/[\r\n]+/g, ' ').trim();
  if (base === '') return 'Re: your message';
  return /^(?:re|aw|sv|antw|rif)\s*:/i.test(base) ? base : `Re: ${base}`;
}
