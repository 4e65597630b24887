import type { APIGatewayProxyEventV2WithJWTAuthorizer as ApiEvent } from 'aws-lambda';
import { metaSubscription, metaWebhook } from '../../adapters/meta/meta-webhook';
import { slackWebhook } from '../../adapters/slack/slack-webhook';
import { telegramWebhook } from '../../adapters/telegram/telegram-webhook';
import type { MetaVerifyTokens } from '../../domain/channels/meta-verify-tokens';
import { type ReceiveDeps, type ReceiveOutcome, receive } from '../../domain/channels/receive';
import { receiveBatch } from '../../domain/channels/receive-batch';
import { AppError, ValidationError } from '../../domain/shared/errors';
import type { RouteImplementations } from '../../http/http-handler';
import type { WEBHOOK_ROUTES } from '../../http/routes/webhooks';
import { logger } from '../../observability';

type ChatRoutes = Pick<
  RouteImplementations<typeof WEBHOOK_ROUTES>,
  | 'POST /v1/webhooks/slack'
  | 'POST /v1/webhooks/telegram/{channelKey}'
  | 'GET /v1/webhooks/meta'
  | 'POST /v1/webhooks/meta'
>;

export interface ChatWebhookDeps {
  readonly receive: ReceiveDeps;
  /** Platform-level lookup of Meta verify tokens (by hash). */
  readonly metaVerifyTokens: Pick<MetaVerifyTokens, 'isKnown'>;
  readonly inPlatformScope: <T>(work: () => Promise<T>) => Promise<T>;
}

/** Meta's handshake answer when the token is no channel's: the body says nothing about which exist. */
class UnknownVerifyTokenError extends AppError {
  constructor() {
    super(403, 'INVALID_VERIFY_TOKEN', 'hub.verify_token is not the verify token of a configured channel');
  }
}

/** What a chat webhook answers (the provider only needs the 200). */
export interface ChatWebhookAnswer {
  readonly received: true;
  readonly queued: number;
  readonly duplicates: number;
}

/** Slack's answer: the challenge of a url_verification, or a delivery's counts. */
export type SlackWebhookAnswer = { readonly received: true; readonly challenge?: string } & Partial<
  Omit<ChatWebhookAnswer, 'received'>
>;

const answer = (outcomes: readonly ReceiveOutcome[]): ChatWebhookAnswer => ({
  received: true,
  queued: outcomes.reduce((sum, o) => sum + o.queued, 0),
  duplicates: outcomes.reduce((sum, o) => sum + o.duplicates, 0),
});

const headersOf = (event: ApiEvent) => event.headers ?? {};

function logged(channel: string, outcome: ReceiveOutcome, ignored?: string): void {
  logger.info('Inbound message received', {
    channel,
    tenantId: outcome.route.tenantId,
    agentId: outcome.route.agentId,
    queued: outcome.queued,
    duplicates: outcome.duplicates,
    ...(ignored ? { ignored } : {}),
  });
}

/**
 * Slack, Telegram and Meta (Messenger, Instagram) webhooks: each parses its provider's payload
 * (adapters), and the inbound pipeline routes, checks the proof with the channel's secrets,
 * drops redeliveries and queues; the answer goes back at once.
 */
export function chatWebhookRoutes(deps: ChatWebhookDeps): ChatRoutes {
  return {
    'POST /v1/webhooks/slack': async ({ rawBody, event }) => {
      const nowSeconds = Math.floor(deps.receive.now().getTime() / 1000);
      const parsed = slackWebhook({ headers: headersOf(event), rawBody }, nowSeconds);
      if (parsed.kind === 'invalid') throw ValidationError.forField('body', parsed.reason);
      if (parsed.kind === 'challenge') {
        const body: SlackWebhookAnswer = { received: true, challenge: parsed.challenge };
        return { body };
      }
      const outcome = await receive(deps.receive, parsed.delivery);
      logged('slack', outcome, parsed.ignored);
      const body: SlackWebhookAnswer = answer([outcome]);
      return { body };
    },

    'POST /v1/webhooks/telegram/{channelKey}': async ({ rawBody, event, params }) => {
      const parsed = telegramWebhook(params.channelKey, { headers: headersOf(event), rawBody });
      if (parsed.kind === 'invalid') throw ValidationError.forField('body', parsed.reason);
      const outcome = await receive(deps.receive, parsed.delivery);
      logged('telegram', outcome, parsed.ignored);
      // Never a `method` field: Telegram would run an answer shaped like a Bot API call.
      return { body: answer([outcome]) };
    },

    'GET /v1/webhooks/meta': async ({ query }) => {
      const subscription = metaSubscription(query);
      if ('invalid' in subscription) throw ValidationError.forField('query', subscription.invalid);
      const known = await deps.inPlatformScope(() => deps.metaVerifyTokens.isKnown(subscription.verifyToken));
      if (!known) {
        deps.receive.log.warn('Meta subscription refused: unknown verify token', {});
        throw new UnknownVerifyTokenError();
      }
      return { raw: { contentType: 'text/plain', body: subscription.challenge } };
    },

    'POST /v1/webhooks/meta': async ({ rawBody, event }) => {
      const parsed = metaWebhook({ headers: headersOf(event), rawBody });
      if (parsed.kind === 'invalid') throw ValidationError.forField('body', parsed.reason);
      const { outcomes, unknown } = await receiveBatch(deps.receive, parsed.deliveries);
      for (const outcome of outcomes) logged(outcome.route.channel, outcome);
      if (unknown > 0) deps.receive.log.warn('Meta entries for unknown pages skipped', { unknown });
      return { body: answer(outcomes) };
    },
  };
}
