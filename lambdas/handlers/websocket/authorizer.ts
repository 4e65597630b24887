import { authorizeDeps } from '../../composition/realtime-authorizer';
import { authorizeConnection, tokenOf } from '../../domain/realtime/authorize';
import { AppError } from '../../domain/shared/errors';
import { logger } from '../../observability';
import { headerOf, type WebSocketAuthorizerEvent, type WebSocketAuthorizerResult } from './websocket-event';

/**
 * The WebSocket API's `$connect` authorizer (Lambda, REQUEST type; WebSocket APIs have no JWT
 * authorizer). Allowed: the identity goes into the context, which API Gateway hands every later
 * frame of the connection. Refused: `Unauthorized` (API Gateway answers the upgrade 401), or a
 * Deny policy (403) for a visitor from a page not allowed or over the rate.
 */
export async function handler(event: WebSocketAuthorizerEvent): Promise<WebSocketAuthorizerResult> {
  const query = event.queryStringParameters ?? {};
  const token = tokenOf(query, headerOf(event.headers, 'sec-websocket-protocol'));
  try {
    const identity = await authorizeConnection(authorizeDeps, {
      ...(token ? { token } : {}),
      ...(query.key ? { publishableKey: query.key } : {}),
      ...(headerOf(event.headers, 'origin') ? { origin: headerOf(event.headers, 'origin') as string } : {}),
      sourceIp: event.requestContext.identity?.sourceIp ?? '',
      ...(query.customer !== undefined ? { customerId: query.customer } : {}),
      ...(query.signature !== undefined ? { customerSignature: query.signature } : {}),
    });
    return policy(
      identity.kind === 'user' ? identity.userId : `visitor:${identity.agentId}`,
      'Allow',
      event.methodArn,
      JSON.stringify(identity),
    );
  } catch (error) {
    if (error instanceof AppError && error.statusCode !== 401) {
      logger.info('WebSocket connection refused', { code: error.code });
      return policy('refused', 'Deny', event.methodArn, '{}');
    }
    if (!(error instanceof AppError)) logger.error('WebSocket authorizer failed', error as Error);
    throw new Error('Unauthorized');
  }
}

function policy(
  principalId: string,
  effect: 'Allow' | 'Deny',
  resource: string,
  identity: string,
): WebSocketAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    context: { identity },
  };
}
