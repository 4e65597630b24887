import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { loadRuntimeConfig, type RuntimeConfig } from './environment';

/**
 * The one place a client of the data table is built, for every entry point and composition: today
 * with the function's own credentials; the seam where tenant-scoped credentials (a tenant-access
 * role assumed per tenant, issue 10 item 1) are to be handed in.
 */
export function tableClient(
  config: Pick<RuntimeConfig, 'AWS_REGION' | 'DYNAMODB_ENDPOINT'> = loadRuntimeConfig(),
): DynamoDBDocumentClient {
  return createDocumentClient({ region: config.AWS_REGION, endpoint: config.DYNAMODB_ENDPOINT });
}
