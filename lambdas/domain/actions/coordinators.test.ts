import type { DomainEvent } from '../events/events';
import type { User } from '../tenants/schemas';
import { createCoordinatorNotifier, MAX_RECIPIENTS, recipientsOf } from './coordinators';
import { type EmailPort, ProviderError } from './ports';

const LOC_A = 'loc_01J0000000000000000000000A';
const LOC_B = 'loc_01J0000000000000000000000B';
const NOW = new Date('2026-03-10T12:00:00Z');

function user(
  id: string,
  role: User['role'],
  locationIds: string[] = [],
  status: User['status'] = 'active',
): User {
  return {
    id,
    tenantId: 'ten_x',
    email: `${id}@acme.test`,
    name: id,
    role,
    status,
    grants: [],
    locationIds,
    createdAt: '',
    updatedAt: '',
    version: 1,
  };
}

const STAFF = [
  user('owner', 'owner'),
  user('member', 'member'),
  user('coordA', 'coordinator', [LOC_A]),
  user('admin', 'admin'),
  user('coordAll', 'coordinator'),
  user('coordB', 'coordinator', [LOC_B]),
];

/** Users served a few at a time, as a repository pages them. */
function pagedUsers(users: User[], pageSize = 2) {
  const calls: (string | undefined)[] = [];
  return {
    calls,
    repo: {
      list: async (tenantId: string, page: { limit: number; cursor?: string }) => {
        calls.push(page.cursor);
        const start = Number(page.cursor ?? 0);
        const items = users.filter((u) => u.tenantId === tenantId).slice(start, start + pageSize);
        const next = start + pageSize;
        return { items, ...(next < users.length ? { nextCursor: String(next) } : {}) };
      },
    },
  };
}

function setup(users: User[] = STAFF, failFor: string[] = []) {
  const emails: { tenantId: string; to: string; subject: string; body: string }[] = [];
  const events: DomainEvent[] = [];
  const email: EmailPort = {
    send: async (tenantId, message) => {
      if (failFor.includes(message.to)) throw new ProviderError('ses', false, 'address rejected');
      emails.push({ tenantId, ...message });
      return { provider: 'ses', providerId: `m-${emails.length}`, status: 'sent' };
    },
  };
  const paged = pagedUsers(users);
  const notifier = createCoordinatorNotifier({
    users: paged.repo,
    email,
    events: { publish: async (published) => void events.push(...published) },
    now: () => NOW,
  });
  return { notifier, emails, events, pages: paged.calls };
}

describe('recipientsOf', () => {
  it('puts coordinators first, then admins and owners, and leaves members out', () => {
    expect(recipientsOf(STAFF).map((u) => u.id)).toEqual(['coordA', 'coordAll', 'coordB', 'admin', 'owner']);
  });

  it('tells only the coordinators of the location, its own before tenant-wide ones', () => {
    expect(recipientsOf(STAFF, LOC_A).map((u) => u.id)).toEqual(['coordA', 'coordAll', 'admin', 'owner']);
    expect(recipientsOf(STAFF, LOC_B).map((u) => u.id)).toEqual(['coordB', 'coordAll', 'admin', 'owner']);
  });

  it('leaves disabled users out: they could not act on it', () => {
    const disabled = user('coordOff', 'coordinator', [], 'disabled');
    expect(recipientsOf([...STAFF, disabled]).map((u) => u.id)).not.toContain('coordOff');
  });

  it('sends one email per address', () => {
    const twin = { ...user('owner2', 'owner'), email: 'COORDALL@acme.test' };
    expect(recipientsOf([...STAFF, twin]).map((u) => u.id)).not.toContain('owner2');
  });
});

describe('createCoordinatorNotifier', () => {
  it('emails every coordinator, admin and owner across all pages, and publishes the count', async () => {
    const { notifier, emails, events, pages } = setup();
    const result = await notifier.notify('ten_x', {
      subject: 'Approval needed',
      body: 'A payment of 750 USD waits for you.',
      agentId: 'agt_1',
      approvalId: 'apr_1',
    });
    expect(result).toEqual({ recipients: 5 });
    expect(pages).toEqual([undefined, '2', '4']);
    expect(emails.map((e) => e.to)).toEqual([
      'coordA@acme.test',
      'coordAll@acme.test',
      'coordB@acme.test',
      'admin@acme.test',
      'owner@acme.test',
    ]);
    expect(emails[0]).toEqual({
      tenantId: 'ten_x',
      to: 'coordA@acme.test',
      subject: 'Approval needed',
      body: 'A payment of 750 USD waits for you.\n\nApproval: apr_1\nAgent: agt_1',
    });
    expect(events).toEqual([
      {
        type: 'coordinator.notified',
        detail: {
          tenantId: 'ten_x',
          subject: 'Approval needed',
          recipients: 5,
          agentId: 'agt_1',
          approvalId: 'apr_1',
        },
        time: NOW.toISOString(),
      },
    ]);
  });

  it('keeps going when one recipient fails, and counts only those reached', async () => {
    const { notifier, emails, events } = setup(STAFF, ['coordA@acme.test', 'owner@acme.test']);
    const result = await notifier.notify('ten_x', {
      subject: 'S',
      body: 'B',
      locationId: LOC_A,
      conversationId: 'cnv_1',
    });
    expect(result).toEqual({ recipients: 2 });
    expect(emails.map((e) => e.to)).toEqual(['coordAll@acme.test', 'admin@acme.test']);
    expect(emails[0]?.body).toBe(`B\n\nConversation: cnv_1\nLocation: ${LOC_A}`);
    expect(events[0]?.detail).toEqual({
      tenantId: 'ten_x',
      subject: 'S',
      recipients: 2,
      conversationId: 'cnv_1',
    });
  });

  it('reports nobody reached when there is nobody to tell', async () => {
    const { notifier, emails, events } = setup([user('member', 'member')]);
    expect(await notifier.notify('ten_x', { subject: 'S', body: 'B' })).toEqual({ recipients: 0 });
    expect(emails).toEqual([]);
    expect(events[0]?.detail).toMatchObject({ recipients: 0 });
  });

  it('bounds the fan-out, coordinators first', async () => {
    const many = [
      user('owner', 'owner'),
      ...Array.from({ length: MAX_RECIPIENTS + 5 }, (_, i) => user(`coord${i}`, 'coordinator')),
    ];
    const { notifier, emails } = setup(many);
    expect(await notifier.notify('ten_x', { subject: 'S', body: 'B' })).toEqual({
      recipients: MAX_RECIPIENTS,
    });
    expect(emails.map((e) => e.to)).not.toContain('owner@acme.test');
  });
});
