import { channelSenders } from '../../composition/channel-senders';
import type { OutboundChannelMessage } from '../../domain/channels/model';
import { MetaChannelSender, SlackChannelSender, TelegramChannelSender } from './chat-channel-senders';

const json = (value: unknown) =>
  new Response(JSON.stringify(value), { status: 200, headers: { 'content-type': 'application/json' } });

let fetchSpy: jest.SpiedFunction<typeof fetch>;
beforeEach(() => {
  fetchSpy = jest.spyOn(globalThis, 'fetch');
});
afterEach(() => fetchSpy.mockRestore());

const sent = () => {
  const [url, init] = (fetchSpy.mock.calls[0] ?? []) as [string, RequestInit];
  return {
    url: String(url),
    headers: init.headers as Record<string, string>,
    body: JSON.parse(String(init.body)),
  };
};

const base = { tenantId: 'ten_A', agentId: 'agt_1', text: 'Happy to help.' } as const;

describe('chat channel senders', () => {
  it('answers Slack in the channel and thread of the inbound message with the channel bot token', async () => {
    fetchSpy.mockResolvedValueOnce(json({ ok: true, ts: '1765000002.000100' }));
    const message: OutboundChannelMessage = {
      ...base,
      channel: 'slack',
      from: 'T061EG9R6',
      to: 'U2147483697',
      replyContext: { channel: 'C0LAN2Q65', threadTs: '1765000000.000200' },
      credentials: { botToken: 'xoxb-1-2-abc', signingSecret: 's' },
    };
    await expect(new SlackChannelSender().send(message)).resolves.toEqual({
      provider: 'slack',
      providerMessageId: '1765000002.000100',
      status: 'sent',
    });
    expect(sent().headers.authorization).toBe('Bearer xoxb-1-2-abc');
    expect(sent().body).toEqual({
      channel: 'C0LAN2Q65',
      text: 'Happy to help.',
      thread_ts: '1765000000.000200',
    });
  });

  it('writes to the Slack user (its DM) when staff start the conversation without a reply context', async () => {
    fetchSpy.mockResolvedValueOnce(json({ ok: true, ts: '1' }));
    await new SlackChannelSender().send({
      ...base,
      channel: 'slack',
      from: 'T1',
      to: 'U2147483697',
      credentials: { botToken: 'xoxb-1' },
    });
    expect(sent().body).toEqual({ channel: 'U2147483697', text: 'Happy to help.' });
  });

  it('answers Telegram in the chat, replying to the customer message', async () => {
    fetchSpy.mockResolvedValueOnce(json({ ok: true, result: { message_id: 99 } }));
    await new TelegramChannelSender().send({
      ...base,
      channel: 'telegram',
      from: 'tgk_key',
      to: '1089347521',
      replyContext: { chatId: '1089347521', replyToMessageId: '52' },
      credentials: { botToken: '7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw', secretToken: 'x' },
    });
    expect(sent().url).toBe(
      'https://api.telegram.org/bot7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage',
    );
    expect(sent().body).toMatchObject({ chat_id: '1089347521', reply_parameters: { message_id: 52 } });
  });

  it('answers Messenger and Instagram through the Send API with the page token', async () => {
    fetchSpy.mockResolvedValue(json({ recipient_id: '5318008123456789', message_id: 'm_r' }));
    const receipt = await new MetaChannelSender().send({
      ...base,
      channel: 'instagram',
      from: '17841405822304914',
      to: '5318008123456789',
      credentials: { pageAccessToken: 'EAAG-token', appSecret: 'a', verifyToken: 'v' },
    });
    expect(receipt).toEqual({ provider: 'meta', providerMessageId: 'm_r', status: 'sent' });
    expect(sent().headers.authorization).toBe('Bearer EAAG-token');
    expect(sent().body.recipient).toEqual({ id: '5318008123456789' });
  });

  it('refuses, naming the missing credential, without calling the provider', async () => {
    await expect(
      new MetaChannelSender().send({ ...base, channel: 'messenger', from: '1', to: '2', credentials: {} }),
    ).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('pageAccessToken') });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('is what the live registry hands out for each of its channels', () => {
    const senders = channelSenders({ env: { OUTBOUND_MODE: 'live', STAGE: 'dev' } });
    expect(senders.senderFor('slack')).toBeInstanceOf(SlackChannelSender);
    expect(senders.senderFor('telegram')).toBeInstanceOf(TelegramChannelSender);
    expect(senders.senderFor('messenger')).toBeInstanceOf(MetaChannelSender);
    expect(senders.senderFor('instagram')).toBeInstanceOf(MetaChannelSender);
  });
});
