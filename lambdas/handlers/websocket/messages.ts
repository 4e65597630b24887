import type { Context } from 'aws-lambda';
import { realtimeDeps } from '../../composition/realtime-session';
import { inTenantScope } from '../../composition/tenant-scope';
import { handleFrame } from '../../domain/realtime/session';
import { logger } from '../../observability';
import { identityOf, type WebSocketRouteEvent, type WebSocketRouteResult } from './websocket-event';

/**
 * Every client frame (`subscribe`, `unsubscribe`, `send_message`, `agent_feedback` and `$default`):
 * in the scope of the tenant the authorizer proved; answers and turn events go back by
 * PostToConnection, and the invocation returns only once they are delivered.
 */
/** Time kept back from the Lambda's timeout to record a deferred turn and answer. */
const DEADLINE_MARGIN_MS = 10_000;

export async function handler(
  event: WebSocketRouteEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<WebSocketRouteResult> {
  const identity = identityOf(event);
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  logger.appendKeys({ tenantId: identity.tenantId, connectionId: event.requestContext.connectionId });
  try {
    await inTenantScope(identity.tenantId, () =>
      handleFrame(
        realtimeDeps,
        event.requestContext.connectionId,
        identity,
        raw,
        context ? Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS : undefined,
      ),
    );
  } catch (error) {
    // The client was told (an `error` frame); a 500 here would only make API Gateway log it again.
    logger.error('WebSocket frame failed', error as Error);
  }
  return { statusCode: 200 };
}
