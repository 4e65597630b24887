import type { Principal } from '../shared/principal';
import type { Conversation, ConversationRepository } from './conversations';
import { exportConversation, getConversation, listConversations, setConversationStatus } from './manage';

const principal: Principal = { tenantId: 'ten_1', userId: 'usr_1', role: 'owner' };
const summarised: Conversation = {
  id: 'cnv_1',
  tenantId: 'ten_1',
  agentId: 'agt_1',
  channel: 'web',
  customerId: 'cus_1',
  status: 'active',
  messageCount: 40,
  summary: 'They asked about opening hours.',
  summarizedThrough: 'exe_9#1',
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
};
const conversations = {
  get: async () => summarised,
  list: async () => ({ items: [summarised] }),
  setStatus: async (_tenant: string, _id: string, status: Conversation['status']) => ({
    ...summarised,
    status,
  }),
  messages: async () => ({ items: [] }),
} as unknown as ConversationRepository;

describe('conversations as callers see them', () => {
  it('keep their summary but not where it ends (the runtime’s bookmark is not in the API)', async () => {
    const views = [
      await getConversation({ conversations }, principal, 'cnv_1'),
      (await listConversations({ conversations }, principal, { limit: 10 })).items[0],
      await setConversationStatus({ conversations }, principal, 'cnv_1', 'paused'),
      (await exportConversation({ conversations }, principal, 'cnv_1')).conversation,
    ];
    for (const view of views) {
      expect(view).toMatchObject({ id: 'cnv_1', summary: 'They asked about opening hours.' });
      expect(view).not.toHaveProperty('summarizedThrough');
    }
  });
});
