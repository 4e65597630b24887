import { emailReplyOf } from '../adapters/email/email-reply';
import type { LocalOutbox } from '../adapters/local/local-outbox';
import type { RetryOptions } from '../adapters/retry';
import type {
  ChannelDeliveryReceipt,
  ChannelSender,
  ChannelSenders,
  MessagingChannel,
  OutboundChannelMessage,
} from '../domain/channels/model';
import { lazyValue } from '../domain/shared/zod';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { requireLocalStandIn } from './stand-ins';

export interface LiveSenderOptions {
  readonly retry?: RetryOptions;
  /** The API's public address (PUBLIC_BASE_URL): where providers post delivery statuses. */
  readonly publicBaseUrl?: string;
}

/**
 * THE registry of live senders, one per channel: a channel engineer adds their line here (the
 * module is required on first send, so a Lambda that never sends on a channel never loads it).
 * A channel missing here cannot be answered on AWS (the worker records why).
 */
const LIVE_SENDERS: Partial<Record<MessagingChannel, (options: LiveSenderOptions) => ChannelSender>> = {
  sms: (options) => twilioSender(options),
  whatsapp: (options) => twilioSender(options),
  email: (options) => sesSender(options),
  slack: (options) => new (chatSenders().SlackChannelSender)(options.retry ? { retry: options.retry } : {}),
  telegram: (options) =>
    new (chatSenders().TelegramChannelSender)(options.retry ? { retry: options.retry } : {}),
  messenger: (options) =>
    new (chatSenders().MetaChannelSender)(options.retry ? { retry: options.retry } : {}),
  instagram: (options) =>
    new (chatSenders().MetaChannelSender)(options.retry ? { retry: options.retry } : {}),
};

const chatSenders = () =>
  require('../adapters/chat/chat-channel-senders') as typeof import('../adapters/chat/chat-channel-senders');

function twilioSender(options: LiveSenderOptions): ChannelSender {
  const { TwilioChannelSender } =
    require('../adapters/twilio/twilio-channel-sender') as typeof import('../adapters/twilio/twilio-channel-sender');
  return new TwilioChannelSender({
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.publicBaseUrl ? { publicBaseUrl: options.publicBaseUrl } : {}),
  });
}

/** SES in the function's region, from the agent's mailbox (the verified receiving domain). */
function sesSender(options: LiveSenderOptions): ChannelSender {
  const env = parseEnvironment(
    environmentSlice(ENV.AWS_REGION, ENV.SES_CONFIGURATION_SET),
    'email sender',
    process.env,
    { emptyIsUnset: true },
  );
  const { SesEmail, sesClient } =
    require('../adapters/ses/ses-email') as typeof import('../adapters/ses/ses-email');
  const { SesChannelSender } =
    require('../adapters/ses/ses-channel-sender') as typeof import('../adapters/ses/ses-channel-sender');
  const email = new SesEmail(sesClient({ region: env.AWS_REGION, maxAttempts: 1 }), {
    // Replies name their sender (the agent's mailbox): no tenant sender secret is read.
    credentials: { get: async () => undefined },
    ...(env.SES_CONFIGURATION_SET ? { configurationSetName: env.SES_CONFIGURATION_SET } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
  return new SesChannelSender(email);
}

/**
 * Local mode's sender for every channel: the reply lands in the local outbox (`GET /v1/dev/outbox`)
 * with the channel as its kind, and nothing leaves the machine.
 */
export class OutboxChannelSender implements ChannelSender {
  constructor(private readonly outbox: LocalOutbox) {}

  async send(message: OutboundChannelMessage): Promise<ChannelDeliveryReceipt> {
    // An email is recorded as SES would send it: the reply subject and the threading headers.
    const email = message.channel === 'email' ? emailReplyOf(message) : undefined;
    const receipt = await this.outbox.sendOnChannel(message.tenantId, {
      channel: message.channel,
      from: message.from,
      to: message.to,
      body: message.template ? `[template ${message.template.contentSid}] ${message.text}` : message.text,
      agentId: message.agentId,
      ...(message.template ? { contentSid: message.template.contentSid } : {}),
      ...(email
        ? {
            subject: email.subject,
            ...(email.inReplyTo ? { inReplyTo: email.inReplyTo } : {}),
            ...(email.references ? { references: email.references } : {}),
          }
        : message.replyContext?.subject
          ? { subject: message.replyContext.subject }
          : {}),
      // Where chat.postMessage would post (the live sender's channel and thread_ts).
      ...(message.channel === 'slack' ? slackPlace(message) : {}),
    });
    return { provider: receipt.provider, providerMessageId: receipt.providerId, status: receipt.status };
  }
}

function slackPlace(message: OutboundChannelMessage): { slackChannel: string; threadTs?: string } {
  const threadTs = message.replyContext?.threadTs;
  return { slackChannel: message.replyContext?.channel ?? message.to, ...(threadTs ? { threadTs } : {}) };
}

const envSchema = () => environmentSlice(ENV.OUTBOUND_MODE, ENV.STAGE);

export interface ChannelSenderOptions extends LiveSenderOptions {
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Tests replace a channel's sender. */
  readonly overrides?: Partial<Record<MessagingChannel, ChannelSender>>;
}

/**
 * The sender of each channel: the local outbox in `outbox` mode (the default when `STAGE` is
 * `local`), the provider's own API otherwise (`OUTBOUND_MODE=live`), as for actions
 * (composition/outbound.ts).
 */
export function channelSenders(options: ChannelSenderOptions = {}): ChannelSenders {
  const env = parseEnvironment(envSchema(), 'channel senders', options.env ?? process.env, {
    emptyIsUnset: true,
  });
  const mode = env.OUTBOUND_MODE ?? (env.STAGE === 'local' ? 'outbox' : 'live');
  const overrides = options.overrides ?? {};
  if (mode === 'outbox') {
    const outbox = lazyValue(
      () => new OutboxChannelSender(requireLocalStandIn('outbox', 'OUTBOUND_MODE=outbox')()),
    );
    return { senderFor: (channel) => overrides[channel] ?? outbox() };
  }
  const built = new Map<MessagingChannel, ChannelSender>();
  return {
    senderFor: (channel) => {
      const override = overrides[channel];
      if (override) return override;
      const existing = built.get(channel);
      if (existing) return existing;
      const factory = LIVE_SENDERS[channel];
      if (!factory) return undefined;
      const sender = factory({
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.publicBaseUrl ? { publicBaseUrl: options.publicBaseUrl } : {}),
      });
      built.set(channel, sender);
      return sender;
    },
  };
}
