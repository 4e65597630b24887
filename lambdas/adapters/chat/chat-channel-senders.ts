import { ProviderError } from '../../domain/actions/ports';
import type {
  ChannelDeliveryReceipt,
  ChannelSender,
  OutboundChannelMessage,
} from '../../domain/channels/model';
import { sendMetaMessage } from '../meta/meta-sender';
import type { RetryOptions } from '../retry';
import { postSlackMessage } from '../slack/slack-sender';
import { sendTelegramMessage } from '../telegram/telegram-sender';
import type { ProviderPostOptions } from './provider-post';

export interface ChatSenderOptions {
  readonly retry?: RetryOptions;
  readonly timeoutMs?: number;
  /** Tests: the provider's API root. */
  readonly baseUrl?: string;
}

const postOptions = (options: ChatSenderOptions): ProviderPostOptions & { baseUrl?: string } => ({
  ...(options.retry ? { retry: options.retry } : {}),
  ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
});

function secret(message: OutboundChannelMessage, name: string, provider: string): string {
  const value = message.credentials[name];
  if (!value)
    throw new ProviderError(provider, false, `the ${message.channel} channel has no ${name} configured`);
  return value;
}

/** Slack replies: `chat.postMessage` in the channel and thread the customer wrote in (credentials `botToken`). */
export class SlackChannelSender implements ChannelSender {
  constructor(private readonly options: ChatSenderOptions = {}) {}

  async send(message: OutboundChannelMessage): Promise<ChannelDeliveryReceipt> {
    const threadTs = message.replyContext?.threadTs;
    const receipt = await postSlackMessage(
      {
        botToken: secret(message, 'botToken', 'slack'),
        // A message started by staff has no reply context: the user's DM (Slack opens it for a user id).
        channel: message.replyContext?.channel ?? message.to,
        text: message.text,
        ...(threadTs ? { threadTs } : {}),
      },
      postOptions(this.options),
    );
    return { provider: 'slack', providerMessageId: receipt.providerMessageId, status: 'sent' };
  }
}

/** Telegram replies: `sendMessage` to the chat the customer wrote from (credentials `botToken`). */
export class TelegramChannelSender implements ChannelSender {
  constructor(private readonly options: ChatSenderOptions = {}) {}

  async send(message: OutboundChannelMessage): Promise<ChannelDeliveryReceipt> {
    const context = message.replyContext ?? {};
    const receipt = await sendTelegramMessage(
      {
        botToken: secret(message, 'botToken', 'telegram'),
        chatId: context.chatId ?? message.to,
        text: message.text,
        ...(context.replyToMessageId ? { replyToMessageId: context.replyToMessageId } : {}),
        ...(context.messageThreadId ? { messageThreadId: context.messageThreadId } : {}),
      },
      postOptions(this.options),
    );
    return { provider: 'telegram', providerMessageId: receipt.providerMessageId, status: 'sent' };
  }
}

/** Messenger and Instagram replies: the Graph Send API with the page access token (credentials `pageAccessToken`). */
export class MetaChannelSender implements ChannelSender {
  constructor(private readonly options: ChatSenderOptions & { readonly graphVersion?: string } = {}) {}

  async send(message: OutboundChannelMessage): Promise<ChannelDeliveryReceipt> {
    if (message.channel !== 'messenger' && message.channel !== 'instagram') {
      throw new ProviderError('meta', false, `Meta does not carry ${message.channel}`);
    }
    const receipt = await sendMetaMessage(
      {
        channel: message.channel,
        pageAccessToken: secret(message, 'pageAccessToken', 'meta'),
        recipientId: message.replyContext?.recipientId ?? message.to,
        text: message.text,
      },
      {
        ...postOptions(this.options),
        ...(this.options.graphVersion ? { graphVersion: this.options.graphVersion } : {}),
      },
    );
    return { provider: 'meta', providerMessageId: receipt.providerMessageId, status: 'sent' };
  }
}
