import { LocalOutbox } from '../adapters/local/local-outbox';
import { OutboxChannelSender } from './channel-senders';

const TENANT = 'ten_01J0000000000000000000000A';

describe('the email reply in the local outbox', () => {
  it('is recorded as SES would send it: Re: subject, In-Reply-To and the References chain', async () => {
    const outbox = new LocalOutbox();
    await new OutboxChannelSender(outbox).send({
      tenantId: TENANT,
      agentId: 'agt_01J0000000000000000000000A',
      channel: 'email',
      from: 'help@acme-dental.example',
      to: 'jane@example.com',
      text: 'See you Thursday.',
      replyContext: { messageId: '<c2@x>', references: '<c1@x>', threadId: '<c1@x>', subject: 'Booking' },
      credentials: {},
    });
    expect(outbox.list(TENANT, { limit: 5 }).items).toEqual([
      expect.objectContaining({
        kind: 'email',
        from: 'help@acme-dental.example',
        to: 'jane@example.com',
        subject: 'Re: Booking',
        body: 'See you Thursday.',
        inReplyTo: '<c2@x>',
        references: '<c1@x> <c2@x>',
      }),
    ]);
  });
});
