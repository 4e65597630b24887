import type { APIGatewayProxyEventV2WithJWTAuthorizer as ApiEvent } from 'aws-lambda';
import {
  parseTwilioForm,
  type TwilioRequestProof,
  twilioInboundDelivery,
  twilioStatus,
  verifyTwilio,
} from '../../adapters/twilio/twilio-webhook';
import {
  channelConversationStore as channelStore,
  inboundConfig,
  metaVerifyTokens,
  receiveDeps,
} from '../../composition/inbound';
import { localStandIns } from '../../composition/stand-ins';
import { inPlatformScope } from '../../composition/tenant-scope';
import { receive, routeOf, verifiedSecrets } from '../../domain/channels/receive';
import { AppError, ValidationError } from '../../domain/shared/errors';
import { createHttpHandler } from '../../http/http-handler';
import { headerOf } from '../../http/request';
import { WEBHOOK_ROUTES } from '../../http/routes/webhooks';
import { logger } from '../../observability';
import { chatWebhookRoutes } from './chat-webhooks';

/** An empty TwiML document: Twilio sends nothing itself; the agent's reply follows through the API. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const twiml = () => ({ raw: { contentType: 'text/xml', body: EMPTY_TWIML } });

/** In local mode the outbox stands in for Twilio, so its messages' statuses can be posted too. */
const STATUS_PROVIDERS = inboundConfig.STAGE === 'local' ? ['twilio', 'outbox'] : ['twilio'];

/**
 * The URL the provider called, as it signed it: `PUBLIC_BASE_URL` (config `publicBaseUrl`) + the
 * path and query when set; else the URL as requested (local mode, or an API without a custom domain).
 */
export function calledUrl(event: ApiEvent, publicBaseUrl = inboundConfig.PUBLIC_BASE_URL): string {
  const pathAndQuery = `${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
  if (publicBaseUrl) return `${publicBaseUrl.replace(/\/+$/, '')}${pathAndQuery}`;
  const scheme = headerOf(event, 'x-forwarded-proto') ?? (inboundConfig.STAGE === 'local' ? 'http' : 'https');
  const host = headerOf(event, 'host') ?? event.requestContext.domainName;
  return `${scheme}://${host}${pathAndQuery}`;
}

function twilioProof(event: ApiEvent): TwilioRequestProof {
  return {
    url: calledUrl(event),
    signature: headerOf(event, 'x-twilio-signature'),
    signatureSettings: headerOf(event, 'x-twilio-webhooks-signature-settings'),
  };
}

async function twilioInbound(channel: 'sms' | 'whatsapp', rawBody: string, event: ApiEvent) {
  const form = parseTwilioForm(rawBody);
  const delivery = twilioInboundDelivery(channel, form, twilioProof(event), receiveDeps.now);
  const outcome = await receive(receiveDeps, delivery);
  logger.info('Inbound message received', {
    channel,
    tenantId: outcome.route.tenantId,
    agentId: outcome.route.agentId,
    queued: outcome.queued,
    duplicates: outcome.duplicates,
  });
  return twiml();
}

export const handler = createHttpHandler(
  WEBHOOK_ROUTES,
  {
    ...chatWebhookRoutes({
      receive: receiveDeps,
      metaVerifyTokens,
      inPlatformScope,
    }),
    'POST /v1/webhooks/twilio/sms': ({ rawBody, event }) => twilioInbound('sms', rawBody, event),
    'POST /v1/webhooks/twilio/whatsapp': ({ rawBody, event }) => twilioInbound('whatsapp', rawBody, event),
    'POST /v1/dev/calls': async ({ body }) => {
      // Never deployed (localOnly): local mode provides its Connect + Lex emulator as a stand-in.
      const devCalls = localStandIns()?.devCalls;
      if (!devCalls) throw new AppError(404, 'ROUTE_NOT_FOUND', 'The local phone exists in local mode only');
      return { body: await devCalls().turn(body) };
    },
    'POST /v1/dev/email/inbound': async ({ rawBody }) => {
      // Never deployed: in a Lambda bundle this branch (and the MIME parser) is compiled away.
      if (process.env.PLATFORM_BUILD !== 'lambda') {
        const { takeInEmail } =
          require('../../composition/email-intake') as typeof import('../../composition/email-intake');
        const outcome = await takeInEmail(rawBody, { source: 'dev-inbound', requireSesVerdicts: false });
        if (outcome.status === 'dropped') {
          if (outcome.reason === 'malformed' || outcome.reason === 'empty') {
            throw ValidationError.forField(
              'body',
              outcome.reason === 'malformed'
                ? 'is not an RFC 5322 message with a From address'
                : 'has no text, subject or attachment',
            );
          }
          return { body: { status: 'dropped', reason: outcome.reason } };
        }
        return { body: { status: outcome.status } };
      }
      throw new AppError(404, 'ROUTE_NOT_FOUND', 'The email intake route exists in local mode only');
    },
    'POST /v1/webhooks/twilio/status': async ({ rawBody, event }) => {
      const form = parseTwilioForm(rawBody);
      const status = twilioStatus(form);
      const route = await routeOf(receiveDeps, status.channel, status.agentAddress);
      const proof = twilioProof(event);
      await verifiedSecrets(receiveDeps, route, (secrets) => verifyTwilio(form, proof, secrets));
      const known = await receiveDeps.inTenantScope(route.tenantId, async () => {
        for (const provider of STATUS_PROVIDERS) {
          const updated = await channelStore.updateDeliveryStatus(
            route.tenantId,
            provider,
            status.providerMessageId,
            status.status,
            receiveDeps.now().toISOString(),
            status.error,
          );
          if (updated) return true;
        }
        return false;
      });
      if (!known) logger.info('Status of an unknown message ignored', { tenantId: route.tenantId });
      return twiml();
    },
  },
  { maxBodyBytes: inboundConfig.MAX_BODY_BYTES },
);
