import { ProviderError } from '../../domain/actions/ports';
import type {
  ChannelDeliveryReceipt,
  ChannelSender,
  OutboundChannelMessage,
} from '../../domain/channels/model';
import { emailReplyOf } from '../email/email-reply';
import type { SesEmail } from './ses-email';

/**
 * Replies on an agent's email channel through SES: from the agent's mailbox, threaded under the
 * customer's message (emailReplyOf). The channel has no credentials of its own: the mailbox is
 * an identity of the platform's verified receiving domain.
 */
export class SesChannelSender implements ChannelSender {
  constructor(private readonly email: Pick<SesEmail, 'sendReply'>) {}

  async send(message: OutboundChannelMessage): Promise<ChannelDeliveryReceipt> {
    if (message.channel !== 'email') {
      throw new ProviderError('ses', false, `SES does not carry ${message.channel}`);
    }
    const receipt = await this.email.sendReply(message.tenantId, emailReplyOf(message));
    return { provider: receipt.provider, providerMessageId: receipt.providerId, status: receipt.status };
  }
}
