import type { LocalOutbox } from '../adapters/local/local-outbox';
import type { RetryOptions } from '../adapters/retry';
import { ProviderError } from '../domain/actions/ports';
import type { TelegramWebhookRegistry } from '../domain/channels/ports';
import { ChannelCredentialsRejectedError } from '../domain/shared/errors';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { requireLocalStandIn } from './stand-ins';

/**
 * What local mode records as the webhook's address when PUBLIC_BASE_URL is unset: `npm start`'s
 * default. Nothing calls it; Telegram could not reach it anyway.
 */
export const LOCAL_PUBLIC_BASE_URL = 'http://localhost:3000';

const telegramModule = () =>
  require('../adapters/telegram/telegram-sender') as typeof import('../adapters/telegram/telegram-sender');

export interface TelegramWebhookOptions {
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly retry?: RetryOptions;
}

/**
 * Telegram's setWebhook/deleteWebhook: into the local outbox in `outbox` mode (the default when
 * `STAGE` is `local`; the address is PUBLIC_BASE_URL or `npm start`'s), Telegram's Bot API
 * otherwise, at PUBLIC_BASE_URL (config `publicBaseUrl`; unset, Telegram channels are refused).
 */
export function telegramWebhooks(options: TelegramWebhookOptions = {}): TelegramWebhookRegistry {
  const env = parseEnvironment(
    environmentSlice(ENV.OUTBOUND_MODE, ENV.STAGE, ENV.PUBLIC_BASE_URL),
    'telegram webhooks',
    options.env ?? process.env,
    { emptyIsUnset: true },
  );
  const mode = env.OUTBOUND_MODE ?? (env.STAGE === 'local' ? 'outbox' : 'live');
  if (mode === 'outbox') {
    const outbox = (): LocalOutbox => requireLocalStandIn('outbox', 'OUTBOUND_MODE=outbox')();
    return {
      publicBaseUrl: env.PUBLIC_BASE_URL ?? LOCAL_PUBLIC_BASE_URL,
      set: async (tenantId, agentId, request) => {
        await outbox().recordWebhookCall(tenantId, {
          kind: 'telegram',
          method: 'setWebhook',
          agentId,
          url: request.url,
          secretToken: request.secretToken,
        });
      },
      delete: async (tenantId, agentId) => {
        await outbox().recordWebhookCall(tenantId, { kind: 'telegram', method: 'deleteWebhook', agentId });
      },
    };
  }
  const post = options.retry ? { retry: options.retry } : {};
  return {
    publicBaseUrl: env.PUBLIC_BASE_URL,
    set: async (_tenantId, _agentId, request) => {
      const telegram = telegramModule();
      try {
        await telegram.setTelegramWebhook(request, post);
      } catch (error) {
        if (
          error instanceof ProviderError &&
          error.providerCode !== undefined &&
          telegram.BAD_TOKEN_CODES.has(error.providerCode)
        ) {
          throw new ChannelCredentialsRejectedError(
            'body.credentials.botToken',
            `Telegram does not accept this bot token (${error.message}); copy it again from @BotFather`,
          );
        }
        throw error;
      }
    },
    delete: async (_tenantId, _agentId, request) => {
      await telegramModule().deleteTelegramWebhook(request, post);
    },
  };
}
