import { ProviderError } from '../../domain/actions/ports';
import type { OutboundChannelMessage } from '../../domain/channels/model';
import type { EmailReply } from '../email/email-reply';
import { SesChannelSender } from './ses-channel-sender';

const TENANT = 'ten_01J0000000000000000000000A';

function recorder() {
  const sent: { tenantId: string; reply: EmailReply }[] = [];
  const sender = new SesChannelSender({
    sendReply: async (tenantId, reply) => {
      sent.push({ tenantId, reply });
      return { provider: 'ses', providerId: '0100018f-ses-id', status: 'sent' };
    },
  });
  return { sender, sent };
}

const reply: OutboundChannelMessage = {
  tenantId: TENANT,
  agentId: 'agt_01J0000000000000000000000A',
  channel: 'email',
  from: 'help@acme-dental.example',
  to: 'jane.doe@gmail.example',
  text: 'Thursday 10:00 is booked.',
  replyContext: {
    messageId: '<CAF2c2bbb@mail.gmail.com>',
    references: '<CAF1c1aaa@mail.gmail.com> <0100018f@email.amazonses.com>',
    threadId: '<CAF1c1aaa@mail.gmail.com>',
    subject: 'Re: Booking on Thursday',
  },
  credentials: {},
};

describe('SesChannelSender', () => {
  it('threads the reply under the customer’s message, from the agent’s mailbox', async () => {
    const { sender, sent } = recorder();
    const receipt = await sender.send(reply);
    expect(receipt).toEqual({ provider: 'ses', providerMessageId: '0100018f-ses-id', status: 'sent' });
    expect(sent).toEqual([
      {
        tenantId: TENANT,
        reply: {
          from: 'help@acme-dental.example',
          to: 'jane.doe@gmail.example',
          subject: 'Re: Booking on Thursday',
          text: 'Thursday 10:00 is booked.',
          inReplyTo: '<CAF2c2bbb@mail.gmail.com>',
          references: '<CAF1c1aaa@mail.gmail.com> <0100018f@email.amazonses.com> <CAF2c2bbb@mail.gmail.com>',
        },
      },
    ]);
  });

  it('sends a message without a thread (a staff message) as a new one', async () => {
    const { sender, sent } = recorder();
    const { replyContext: _none, ...unthreaded } = reply;
    await sender.send(unthreaded);
    expect(sent[0]?.reply).toEqual({
      from: 'help@acme-dental.example',
      to: 'jane.doe@gmail.example',
      subject: 'Re: your message',
      text: 'Thursday 10:00 is booked.',
    });
  });

  it('refuses another channel', async () => {
    const { sender, sent } = recorder();
    await expect(sender.send({ ...reply, channel: 'sms' })).rejects.toBeInstanceOf(ProviderError);
    expect(sent).toEqual([]);
  });
});
