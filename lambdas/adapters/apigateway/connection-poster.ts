import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionPoster } from '../../domain/realtime/ports';

/**
 * Frames to WebSocket connections through API Gateway's management API (`PostToConnection`). A
 * closed connection answers 410 Gone: reported as `gone` (the fan-out removes it), never thrown.
 */
export class ApiGatewayConnectionPoster implements ConnectionPoster {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(endpoint: string, region: string) {
    // Two attempts: a frame is small and late is worse than lost for a streamed delta.
    this.client = new ApiGatewayManagementApiClient({ endpoint, region, maxAttempts: 2 });
  }

  async post(connectionId: string, frame: string): Promise<'sent' | 'gone'> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(frame, 'utf8') }),
      );
      return 'sent';
    } catch (error) {
      if (
        error instanceof GoneException ||
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410
      ) {
        return 'gone';
      }
      throw error;
    }
  }
}

/**
 * A poster whose endpoint is found on first use (a function of a stack deployed before the
 * WebSocket API reads it from a parameter): found once per process and shared by every post; a
 * failed lookup is retried by the next post (the API's stack may have been deployed since).
 */
export class DeferredEndpointConnectionPoster implements ConnectionPoster {
  private poster: Promise<ConnectionPoster> | undefined;

  constructor(
    private readonly findEndpoint: () => Promise<string>,
    private readonly posterFor: (endpoint: string) => ConnectionPoster,
  ) {}

  async post(connectionId: string, frame: string): Promise<'sent' | 'gone'> {
    this.poster ??= this.findEndpoint()
      .then(this.posterFor)
      .catch((error: unknown) => {
        this.poster = undefined;
        throw error;
      });
    return (await this.poster).post(connectionId, frame);
  }
}
