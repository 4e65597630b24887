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
