import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/document-client';
import { ensureTable } from '../../local/dynamodb-local';

export function dynamoEndpoint(): string {
  const endpoint = process.env.DYNAMODB_LOCAL_ENDPOINT;
  if (!endpoint)
    throw new Error(
      'DYNAMODB_LOCAL_ENDPOINT is not set: run the tests through jest (global setup starts DynamoDB Local)',
    );
  return endpoint;
}

/** A fresh table (same definition as the stack's) in the run's shared DynamoDB Local. */
export async function freshTable(): Promise<{ client: DynamoDBDocumentClient; tableName: string }> {
  const tableName = `test-${randomUUID()}`;
  await ensureTable(dynamoEndpoint(), tableName);
  return { client: createDocumentClient({ region: 'us-east-1', endpoint: dynamoEndpoint() }), tableName };
}
