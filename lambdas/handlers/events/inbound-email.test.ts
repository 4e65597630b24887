import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoEndpoint, freshTable } from '../../../test/support/dynamodb';
import { GMAIL_REPLY, MAILBOX, sesStored } from '../../../test/support/email-messages';
import { DynamoChannelDirectory } from '../../adapters/dynamodb/channel-directory';

/**
 * The email intake as S3 invokes it (a real S3 event record), on DynamoDB Local, with SQS mocked:
 * what SES stored is checked against its verdicts and queued for the agent once.
 */
const sqs = mockClient(SQSClient);
let receiveStoredEmails: typeof import('./inbound-email').receiveStoredEmails;

const ROUTE = {
  channel: 'email' as const,
  address: MAILBOX,
  tenantId: 'ten_01J0000000000000000000000A',
  agentId: 'agt_01J0000000000000000000000A',
};
const ENV = {
  TABLE_NAME: '',
  DYNAMODB_ENDPOINT: '',
  INBOUND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/inbound.fifo',
  EMAIL_RECEIVING_DOMAIN: 'acme-dental.example',
};
const saved = Object.fromEntries(Object.keys(ENV).map((name) => [name, process.env[name]]));

beforeAll(async () => {
  const table = await freshTable();
  Object.assign(process.env, { ...ENV, TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: dynamoEndpoint() });
  await new DynamoChannelDirectory(table.client, table.tableName).claim(ROUTE);
  ({ receiveStoredEmails } = require('./inbound-email') as typeof import('./inbound-email'));
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

function s3Event(key: string, size = 4096): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: '2026-12-01T10:05:14.000Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AROAEXAMPLE:ses' },
        requestParameters: { sourceIPAddress: '10.0.0.1' },
        responseElements: { 'x-amz-request-id': 'R1', 'x-amz-id-2': 'I2' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'intake',
          bucket: {
            name: 'mail-bucket',
            ownerIdentity: { principalId: 'A1' },
            arn: 'arn:aws:s3:::mail-bucket',
          },
          object: { key, size, eTag: 'e', sequencer: '0A' },
        },
      },
    ],
  };
}

const storeOf = (objects: Record<string, string>) => ({
  read: async (bucket: string, key: string) => {
    const body = objects[`${bucket}/${key}`];
    if (body === undefined) throw new Error(`no such object ${bucket}/${key}`);
    return Buffer.from(body);
  },
});

const queuedBodies = () =>
  sqs.commandCalls(SendMessageCommand).map((call) => JSON.parse(call.args[0].input.MessageBody as string));

describe('the email intake Lambda', () => {
  it('queues a stored, scanned message for the agent of its mailbox, once per Message-ID', async () => {
    const store = storeOf({ 'mail-bucket/inbound/9ui4k2b7 j1': sesStored(GMAIL_REPLY) });
    // S3 events URL-encode keys, spaces as '+'.
    await receiveStoredEmails(s3Event('inbound/9ui4k2b7+j1'), store);
    await receiveStoredEmails(s3Event('inbound/9ui4k2b7+j1'), store);
    const bodies = queuedBodies();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      tenantId: ROUTE.tenantId,
      agentId: ROUTE.agentId,
      message: {
        channel: 'email',
        agentAddress: MAILBOX,
        customerAddress: 'jane.doe@gmail.example',
        text: 'Thursday at 10 works for me — thanks!',
        providerMessageId: 'CAF2c2bbb+Xy=Z@mail.gmail.com',
      },
    });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.QueueUrl).toBe(ENV.INBOUND_QUEUE_URL);
  });

  it('drops spam, mail SES did not scan and SES’s own setup notice without failing (no retry)', async () => {
    const store = storeOf({
      'mail-bucket/inbound/spam': sesStored(GMAIL_REPLY.replace('CAF2c2bbb', 'spam1'), { spam: 'FAIL' }),
      'mail-bucket/inbound/raw': GMAIL_REPLY.replace('CAF2c2bbb', 'raw1'),
      'mail-bucket/inbound/AMAZON_SES_SETUP_NOTIFICATION':
        'This is a notification from Amazon SES that the rule can write to this bucket.',
    });
    for (const key of ['inbound/spam', 'inbound/raw', 'inbound/AMAZON_SES_SETUP_NOTIFICATION']) {
      await expect(receiveStoredEmails(s3Event(key), store)).resolves.toBeUndefined();
    }
    expect(queuedBodies()).toEqual([]);
  });

  it('is done with mail for no agent (SES has accepted it; there is nobody to answer 404 to)', async () => {
    const store = storeOf({
      'mail-bucket/inbound/other': sesStored(
        GMAIL_REPLY.replace('Help@Acme-Dental.example', 'nobody@acme-dental.example').replace(
          'CAF2c2bbb',
          'n1',
        ),
        {},
        'nobody@acme-dental.example',
      ),
    });
    await expect(receiveStoredEmails(s3Event('inbound/other'), store)).resolves.toBeUndefined();
    expect(queuedBodies()).toEqual([]);
  });

  it('fails (for Lambda to retry) when the queue does, and frees the Message-ID for the retry', async () => {
    const raw = sesStored(GMAIL_REPLY.replace('CAF2c2bbb', 'retry1'));
    const store = storeOf({ 'mail-bucket/inbound/retry': raw });
    sqs.on(SendMessageCommand).rejectsOnce(new Error('SQS unavailable')).resolves({ MessageId: 'm-2' });
    await expect(receiveStoredEmails(s3Event('inbound/retry'), store)).rejects.toThrow('SQS unavailable');
    await receiveStoredEmails(s3Event('inbound/retry'), store);
    expect(queuedBodies()).toHaveLength(2);
  });
});
