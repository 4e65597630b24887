import { parseTelegramUpdate, verifyTelegramRequest } from './telegram-webhook';

const SECRET = 'qS3kP0-9xZ_secret_token_4f1a';
const KEY = 'tgk_7rQ2mXc9LpW4';

// A private-chat text Update as the Bot API delivers it.
const UPDATE = {
  update_id: 894512376,
  message: {
    message_id: 52,
    from: {
      id: 1089347521,
      is_bot: false,
      first_name: 'Ana',
      last_name: 'Silva',
      username: 'anasilva',
      language_code: 'pt-br',
    },
    chat: { id: 1089347521, first_name: 'Ana', last_name: 'Silva', username: 'anasilva', type: 'private' },
    date: 1765000000,
    text: 'Can I change my booking?',
  },
};
const body = (value: unknown) => JSON.stringify(value);
const withMessage = (message: Record<string, unknown>) =>
  body({ ...UPDATE, message: { ...UPDATE.message, ...message } });

describe('verifyTelegramRequest', () => {
  it('accepts the secret token the platform gave setWebhook', () => {
    expect(verifyTelegramRequest({ headers: { 'X-Telegram-Bot-Api-Secret-Token': SECRET } }, SECRET)).toEqual(
      { ok: true },
    );
  });

  it.each([
    ['a wrong token', { 'x-telegram-bot-api-secret-token': `${SECRET}x` }],
    ['a prefix of the token', { 'x-telegram-bot-api-secret-token': SECRET.slice(0, 10) }],
    ['no header', {}],
  ])('refuses %s without echoing the secret', (_why, headers) => {
    const result = verifyTelegramRequest({ headers }, SECRET);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('refuses everything when no secret is configured', () => {
    expect(verifyTelegramRequest({ headers: { 'x-telegram-bot-api-secret-token': '' } }, '').ok).toBe(false);
  });
});

describe('parseTelegramUpdate', () => {
  it('maps a private message to the chat as customer, keyed by bot and update_id, replying to it', () => {
    expect(parseTelegramUpdate(KEY, body(UPDATE))).toEqual({
      kind: 'update',
      messages: [
        {
          channel: 'telegram',
          agentAddress: KEY,
          customerAddress: '1089347521',
          customerName: 'Ana Silva',
          text: 'Can I change my booking?',
          attachments: [],
          providerMessageId: `${KEY}:894512376`,
          sentAt: new Date(1_765_000_000_000).toISOString(),
          replyContext: { chatId: '1089347521', replyToMessageId: '52' },
        },
      ],
    });
  });

  it('keys the same update_id of two bots apart', () => {
    const one = parseTelegramUpdate('tgk_one', body(UPDATE));
    const two = parseTelegramUpdate('tgk_two', body(UPDATE));
    expect(one.kind === 'update' && one.messages[0]?.providerMessageId).not.toEqual(
      two.kind === 'update' && two.messages[0]?.providerMessageId,
    );
  });

  it('answers a group in the group, in the forum topic it was asked in', () => {
    const delivery = parseTelegramUpdate(
      KEY,
      withMessage({
        chat: { id: -1001234567890, title: 'Shop', type: 'supergroup', is_forum: true },
        is_topic_message: true,
        message_thread_id: 7,
      }),
    );
    expect(delivery).toMatchObject({
      messages: [
        {
          customerAddress: '-1001234567890',
          replyContext: { chatId: '-1001234567890', messageThreadId: '7' },
        },
      ],
    });
  });

  it('takes a photo with its caption, keeping the largest size', () => {
    const delivery = parseTelegramUpdate(
      KEY,
      withMessage({
        text: undefined,
        caption: 'is this damaged?',
        photo: [
          { file_id: 'AgACAgsmall', file_unique_id: 'a', width: 90, height: 67, file_size: 1204 },
          { file_id: 'AgACAglarge', file_unique_id: 'b', width: 1280, height: 960, file_size: 98765 },
        ],
      }),
    );
    expect(delivery).toMatchObject({
      messages: [
        {
          text: 'is this damaged?',
          attachments: [{ ref: 'AgACAglarge', contentType: 'image/jpeg', sizeBytes: 98765 }],
        },
      ],
    });
  });

  it.each([
    [
      'an edited message',
      body({ update_id: 894512377, edited_message: { ...UPDATE.message, edit_date: 1765000100 } }),
    ],
    [
      'a channel post',
      body({
        update_id: 894512378,
        channel_post: { message_id: 3, chat: { id: -100, type: 'channel' }, date: 1, text: 'x' },
      }),
    ],
    ['a message from a bot', withMessage({ from: { id: 5, is_bot: true, first_name: 'OtherBot' } })],
    ['a sticker', withMessage({ text: undefined, sticker: { file_id: 'CAAC', width: 512, height: 512 } })],
  ])('answers nothing to %s', (_why, raw) => {
    const delivery = parseTelegramUpdate(KEY, raw);
    expect(delivery).toMatchObject({ kind: 'update', messages: [] });
    expect(delivery.kind === 'update' && delivery.ignored).toBeTruthy();
  });

  it('rejects what is not an Update', () => {
    expect(parseTelegramUpdate(KEY, 'nope').kind).toBe('invalid');
    expect(parseTelegramUpdate(KEY, body({ message: UPDATE.message })).kind).toBe('invalid');
    expect(parseTelegramUpdate(KEY, withMessage({ chat: {} })).kind).toBe('invalid');
  });
});
