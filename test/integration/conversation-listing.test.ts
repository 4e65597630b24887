/**
 * The conversation listing's filters on DynamoDB Local: channel alone and with the agent, and the
 * paging they need (a filter over the activity-ordered partition can leave a page short, even
 * empty, but its cursor goes on to the matches further down).
 */
import { DynamoConversationRepository } from '../../lambdas/adapters/dynamodb/conversation-repository';
import type { ConversationFilter } from '../../lambdas/domain/conversations/conversations';
import { newId } from '../../lambdas/domain/shared/ids';
import { freshTable } from '../support/dynamodb';

let conversations: DynamoConversationRepository;
const tenantId = newId('tenant');
const frontDesk = newId('agent');
const billing = newId('agent');
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

/** Every page of a filtered listing, as the ids on each page. */
async function pages(filter: Omit<ConversationFilter, 'cursor'>) {
  const seen: { ids: string[]; hasNext: boolean }[] = [];
  let cursor: string | undefined;
  do {
    const page = await conversations.list(tenantId, { ...filter, ...(cursor ? { cursor } : {}) });
    seen.push({ ids: page.items.map((c) => c.id), hasNext: page.nextCursor !== undefined });
    cursor = page.nextCursor;
  } while (cursor && seen.length < 50);
  return seen;
}

let frontDeskSms: string;
let billingSms: string;
let telegram: string;
const web: string[] = [];

beforeAll(async () => {
  const table = await freshTable();
  conversations = new DynamoConversationRepository(table.client, table.tableName);
  // The oldest activity first: the SMS conversations sit below a dozen newer web ones.
  frontDeskSms = (await conversations.open(tenantId, frontDesk, 'sms', newId('customer'))).id;
  await tick();
  billingSms = (await conversations.open(tenantId, billing, 'sms', newId('customer'))).id;
  await tick();
  for (let i = 0; i < 12; i++) {
    web.push((await conversations.open(tenantId, i % 2 ? billing : frontDesk, 'web', newId('customer'))).id);
  }
  await tick();
  telegram = (await conversations.open(tenantId, frontDesk, 'telegram', newId('customer'))).id;
});

it('lists the conversations on one channel only, newest first', async () => {
  const page = await conversations.list(tenantId, { channel: 'sms', limit: 50 });
  expect(page.items.map((c) => c.id)).toEqual([billingSms, frontDeskSms]);
  expect(page.items.every((c) => c.channel === 'sms')).toBe(true);
  expect(page.nextCursor).toBeUndefined();
  const onTelegram = await conversations.list(tenantId, { channel: 'telegram', limit: 50 });
  expect(onTelegram.items.map((c) => c.id)).toEqual([telegram]);
  const onEmail = await conversations.list(tenantId, { channel: 'email', limit: 50 });
  expect(onEmail).toEqual({ items: [] });
});

it('combines the channel with the agent', async () => {
  const page = await conversations.list(tenantId, { channel: 'sms', agentId: frontDesk, limit: 50 });
  expect(page.items.map((c) => c.id)).toEqual([frontDeskSms]);
  const webOfBilling = await conversations.list(tenantId, { channel: 'web', agentId: billing, limit: 50 });
  expect(webOfBilling.items.map((c) => c.id)).toEqual(web.filter((_, i) => i % 2).reverse());
});

it('keeps paging past short and empty pages to every match', async () => {
  // One item a page: the first reads stop at the read bound on web conversations (an empty page
  // with a cursor), and the walk still reaches both SMS conversations, each once.
  const walked = await pages({ channel: 'sms', limit: 1 });
  expect(walked.flatMap((page) => page.ids)).toEqual([billingSms, frontDeskSms]);
  expect(walked.some((page) => page.ids.length === 0 && page.hasNext)).toBe(true);
  expect(walked.at(-1)?.hasNext).toBe(false);
});

it('binds a cursor to its channel', async () => {
  const first = await conversations.list(tenantId, { channel: 'web', limit: 2 });
  expect(first.nextCursor).toEqual(expect.any(String));
  await expect(
    conversations.list(tenantId, { channel: 'sms', limit: 2, cursor: first.nextCursor as string }),
  ).rejects.toMatchObject({ name: 'ValidationError' });
  const next = await conversations.list(tenantId, {
    channel: 'web',
    limit: 2,
    cursor: first.nextCursor as string,
  });
  expect(next.items).toHaveLength(2);
});
