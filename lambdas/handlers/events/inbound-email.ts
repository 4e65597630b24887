import { S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { objectKeyOf, type ReceivedMailStore, S3ReceivedMailStore } from '../../adapters/email/s3-mail-store';
import { takeInEmail } from '../../composition/email-intake';
import { UnknownChannelAddressError } from '../../domain/channels/receive';
import { logger } from '../../observability';

/** SES stores messages of up to 40 MB; anything larger in the bucket is not SES's. */
const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;

const store: ReceivedMailStore = new S3ReceivedMailStore(new S3Client({ region: process.env.AWS_REGION }));

/**
 * Email in on AWS: SES's receipt rule wrote the message to the platform's bucket (that is the
 * proof it came through our door: only SES may write there, by the bucket policy) and S3 invokes
 * this function. Each message is read, checked against SES's verdicts and run through the inbound
 * pipeline. A message for no agent, or one dropped (spam, virus, failed authentication,
 * auto-reply, SES's own setup notice), is logged and done with; anything else that fails is
 * thrown, so that Lambda's retries and then the on-failure queue get it.
 */
export const handler = (event: S3Event): Promise<void> => receiveStoredEmails(event, store);

/** The handler's work, with the store passed in (tests stand in for S3). */
export async function receiveStoredEmails(event: S3Event, mail: ReceivedMailStore): Promise<void> {
  for (const record of event.Records) {
    const bucket = record.s3.bucket.name;
    const key = objectKeyOf(record.s3.object.key);
    const source = `s3://${bucket}/${key}`;
    if (record.s3.object.size > MAX_MESSAGE_BYTES) {
      logger.warn('Inbound email dropped', { channel: 'email', reason: 'too-large', source });
      continue;
    }
    const raw = await mail.read(bucket, key);
    try {
      await takeInEmail(raw, { source, requireSesVerdicts: true });
    } catch (error) {
      if (!(error instanceof UnknownChannelAddressError)) throw error;
      // Logged by the pipeline; SES has already accepted the mail, so there is no one to answer 404 to.
    }
  }
}
