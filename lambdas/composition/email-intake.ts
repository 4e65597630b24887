import { readInboundEmail } from '../adapters/email/inbound-email';
import { receiveEmail } from '../domain/channels/receive-email';
import { logger } from '../observability';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { receiveDeps } from './inbound';

const config = parseEnvironment(environmentSlice(ENV.EMAIL_RECEIVING_DOMAIN), 'email intake', process.env, {
  emptyIsUnset: true,
});

export type EmailIntakeOutcome =
  | { readonly status: 'queued' | 'duplicate'; readonly tenantId: string; readonly agentId: string }
  | { readonly status: 'dropped'; readonly reason: string };

/**
 * One received email through the inbound pipeline, the same on AWS (the S3-triggered Lambda, with
 * SES's verdicts required) and in local mode (`POST /v1/dev/email/inbound`). A dropped message is
 * logged with its reason, never its content. Throws UnknownChannelAddressError (404) when no
 * agent answers any of its mailboxes.
 */
export async function takeInEmail(
  raw: Buffer | string,
  options: { readonly source: string; readonly requireSesVerdicts: boolean },
): Promise<EmailIntakeOutcome> {
  const intake = await readInboundEmail(raw, {
    source: options.source,
    requireSesVerdicts: options.requireSesVerdicts,
    ...(config.EMAIL_RECEIVING_DOMAIN ? { receivingDomains: [config.EMAIL_RECEIVING_DOMAIN] } : {}),
    now: receiveDeps.now,
  });
  if (intake.kind === 'dropped') {
    logger.warn('Inbound email dropped', {
      channel: 'email',
      reason: intake.drop.reason,
      detail: intake.drop.detail,
      source: options.source,
    });
    return { status: 'dropped', reason: intake.drop.reason };
  }
  const outcome = await receiveEmail(receiveDeps, intake.messages);
  logger.info('Inbound message received', {
    channel: 'email',
    tenantId: outcome.route.tenantId,
    agentId: outcome.route.agentId,
    queued: outcome.queued,
    duplicates: outcome.duplicates,
  });
  return {
    status: outcome.queued > 0 ? 'queued' : 'duplicate',
    tenantId: outcome.route.tenantId,
    agentId: outcome.route.agentId,
  };
}
