import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Where SES keeps the messages it received: the bytes of one, by bucket and key. */
export interface ReceivedMailStore {
  read(bucket: string, key: string): Promise<Buffer>;
}

export class S3ReceivedMailStore implements ReceivedMailStore {
  constructor(private readonly client: Pick<S3Client, 'send'>) {}

  async read(bucket: string, key: string): Promise<Buffer> {
    const output = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!output.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return Buffer.from(await output.Body.transformToByteArray());
  }
}

/**
 * An S3 event's object key as stored: the event URL-encodes it, spaces as `+` (SES's keys are
 * `<prefix><SES message id>`, but a prefix may hold anything).
 */
export function objectKeyOf(eventKey: string): string {
  return decodeURIComponent(eventKey.replace(/\+/g, ' '));
}
