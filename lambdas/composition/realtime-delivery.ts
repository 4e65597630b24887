import { DynamoConnectionStore } from '../adapters/dynamodb/connection-repository';
import type { TableClient } from '../adapters/dynamodb/document-client';
import { type FanOutSink, fanOutSink } from '../domain/realtime/fan-out';
import type { ConnectionPoster, ConnectionStore } from '../domain/realtime/ports';
import { logger } from '../observability';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { requireLocalStandIn } from './stand-ins';
import { DATA_SCOPES } from './tenant-scope';

/**
 * Delivery of turn events to WebSocket connections, for every entry point that publishes them:
 * PostToConnection through the API's management endpoint on AWS (WEBSOCKET_CALLBACK_URL, or read
 * once from the SSM parameter WEBSOCKET_CALLBACK_URL_PARAMETER names by a function of a stack
 * deployed before the API's), the
 * local server's sockets in local mode and tests (a stand-in; no deployed bundle holds it).
 */
const deliveryConfig = parseEnvironment(
  environmentSlice(ENV.WEBSOCKET_CALLBACK_URL, ENV.WEBSOCKET_CALLBACK_URL_PARAMETER, ENV.AWS_REGION),
  'realtime delivery',
);

/** Exported for its test: which poster this process's environment gives. */
export function connectionPoster(): ConnectionPoster {
  if (deliveryConfig.WEBSOCKET_CALLBACK_URL) {
    const { ApiGatewayConnectionPoster } =
      require('../adapters/apigateway/connection-poster') as typeof import('../adapters/apigateway/connection-poster');
    return new ApiGatewayConnectionPoster(deliveryConfig.WEBSOCKET_CALLBACK_URL, deliveryConfig.AWS_REGION);
  }
  const parameterName = deliveryConfig.WEBSOCKET_CALLBACK_URL_PARAMETER;
  if (parameterName) {
    const { ApiGatewayConnectionPoster, DeferredEndpointConnectionPoster } =
      require('../adapters/apigateway/connection-poster') as typeof import('../adapters/apigateway/connection-poster');
    const { readParameter } =
      require('../adapters/ssm/parameter') as typeof import('../adapters/ssm/parameter');
    const region = deliveryConfig.AWS_REGION;
    return new DeferredEndpointConnectionPoster(
      () => readParameter(parameterName, region),
      (endpoint) => new ApiGatewayConnectionPoster(endpoint, region),
    );
  }
  return requireLocalStandIn('connectionPoster', 'WEBSOCKET_CALLBACK_URL unset')();
}

export function connectionStore(client: TableClient, tableName: string): ConnectionStore {
  return new DynamoConnectionStore(client, tableName);
}

let sink: FanOutSink | undefined;

/** The process's one fan-out sink (its sequence counters and ordering are per process). */
export function turnEventSink(client: TableClient, tableName: string): FanOutSink {
  sink ??= fanOutSink({
    store: connectionStore(client, tableName),
    poster: connectionPoster(),
    scopes: DATA_SCOPES,
    log: { warn: (message, extra) => logger.warn(message, extra) },
  });
  return sink;
}
