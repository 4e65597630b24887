import { startDynamoDbLocal } from '../../local/dynamodb-local';

/** One DynamoDB Local for the whole run; every suite makes its own table in it. */
export default async function globalSetup(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  process.env.DYNAMODB_LOCAL_ENDPOINT = dynamo.endpoint;
  (globalThis as { __dynamoDbLocal__?: typeof dynamo }).__dynamoDbLocal__ = dynamo;
}
