import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DocumentClientOptions {
  readonly region: string;
  /** DynamoDB Local; credentials are irrelevant there but the SDK insists on some. */
  readonly endpoint?: string;
  /** A tenant's scoped credentials; unset: the function's own (the default chain). */
  readonly credentials?: DynamoDBClientConfig['credentials'];
}

/**
 * What a repository needs of a table client: `send`. The composition's client routes each call to
 * the client of the tenant scope in force (composition/table.ts), so repositories never see which.
 */
export type TableClient = Pick<DynamoDBDocumentClient, 'send'>;

export function createDocumentClient(options: DocumentClientOptions): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
