import { connectionDeps } from '../../composition/realtime-connection';
import { inTenantScope } from '../../composition/tenant-scope';
import { WEBSOCKET_SUBPROTOCOL } from '../../domain/realtime/authorize';
import { closeConnection, openConnection } from '../../domain/realtime/session';
import { headerOf, identityOf, type WebSocketRouteEvent, type WebSocketRouteResult } from './websocket-event';

/**
 * `$connect` and `$disconnect`: the connection recorded with the tenant the authorizer proved (and
 * its 2-hour TTL), and removed with its subscriptions. A client that offered the token as
 * `Sec-WebSocket-Protocol` gets the platform's subprotocol selected (browsers require one).
 */
export async function handler(event: WebSocketRouteEvent): Promise<WebSocketRouteResult> {
  const identity = identityOf(event);
  const { connectionId, routeKey } = event.requestContext;
  return inTenantScope(identity.tenantId, async () => {
    if (routeKey === '$disconnect') {
      await closeConnection(connectionDeps, connectionId, identity);
      return { statusCode: 200 };
    }
    await openConnection(connectionDeps, connectionId, identity);
    const offered = headerOf(event.headers, 'sec-websocket-protocol');
    return offered
      ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': WEBSOCKET_SUBPROTOCOL } }
      : { statusCode: 200 };
  });
}
