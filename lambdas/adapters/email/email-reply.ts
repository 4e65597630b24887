import type { OutboundChannelMessage } from '../../domain/channels/model';
import { messageIdsIn, replyHeaders, replySubject } from './threading';

/** An agent's email to a customer, threaded under the message it answers when there is one. */
export interface EmailReply {
  /** The agent's mailbox (a verified SES identity on AWS): the customer's reply comes back to it. */
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly inReplyTo?: string;
  readonly references?: string;
}

/**
 * The email the pipeline's reply (or a staff message) becomes. The inbound message's
 * `replyContext` (readInboundEmail: `messageId`, `references`, `subject`) threads it: the same
 * function serves SES and the local outbox, so what local mode shows is what SES would send.
 */
export function emailReplyOf(
  message: Pick<OutboundChannelMessage, 'from' | 'to' | 'text' | 'replyContext'>,
): EmailReply {
  const context = message.replyContext ?? {};
  const [messageId] = messageIdsIn(context.messageId);
  const threading = messageId
    ? replyHeaders({ messageId, references: messageIdsIn(context.references) })
    : undefined;
  return {
    from: message.from,
    to: message.to,
    subject: replySubject(context.subject),
    text: message.text,
    ...(threading ?? {}),
  };
}
