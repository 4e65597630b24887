import { type Agent, agentCreateBody } from '../agents/schemas';
import type { Conversation, ConversationStatus } from '../conversations/conversations';
import type { DomainEvent } from '../events/events';
import { ConflictError, NotFoundError } from '../shared/errors';
import ACTION_INPUT_SCHEMAS from './action-input-schemas.json';
import { actionJsonSchemaOf, actionSpecOf, findAction, isActionName, listActions } from './catalog';
import type { ActionContext, ActionDefinition, ActionPorts, CoordinatorNotifier } from './definition';
import { ACTION_NAMES } from './model';
import {
  type Booking,
  type BookingRepository,
  type DeliveryReceipt,
  ProviderError,
  type ResourceRecord,
  type ResourceRepository,
} from './ports';

const NOW = new Date('2026-03-10T12:00:00Z'); // a Tuesday
const LOCATION = 'loc_01J0000000000000000000000A';
const OTHER_LOCATION = 'loc_01J0000000000000000000000B';

function agent(overrides: Record<string, unknown> = {}): Agent {
  const config = agentCreateBody().parse({
    name: 'Desk',
    businessType: 'dental',
    model: { provider: 'scripted', modelId: 'scripted-v1' },
    ...overrides,
  });
  return {
    ...config,
    id: 'agt_x',
    tenantId: 'ten_x',
    status: 'active',
    version: 1,
    createdAt: '',
    updatedAt: '',
    createdBy: '',
    updatedBy: '',
  };
}

const WEEKDAY_HOURS = {
  businessProfile: {
    name: 'Acme Dental',
    hours: [
      { day: 'tue', opens: '09:00', closes: '12:00' },
      { day: 'tue', opens: '13:00', closes: '17:00' },
      { day: 'wed', opens: '09:00', closes: '17:00' },
    ],
  },
};

/** Records what each port was asked, and answers like a provider would. */
function fakePorts() {
  const sent: { port: string; tenantId: string; request: unknown }[] = [];
  const receipt = (provider: string, n: number): DeliveryReceipt => ({
    provider,
    providerId: `${provider}-${n}`,
    status: 'sent',
  });
  const records = new Map<string, ResourceRecord>();
  const bookings: Booking[] = [];
  const statuses: { conversationId: string; status: ConversationStatus }[] = [];
  const notified: Parameters<CoordinatorNotifier['notify']>[] = [];
  const events: DomainEvent[] = [];
  const key = (tenantId: string, collection: string, id: string) => `${tenantId}/${collection}/${id}`;
  const resources: ResourceRepository = {
    create: async (record) => {
      records.set(key(record.tenantId, record.collection, record.id), record);
    },
    get: async (tenantId, collection, id) => records.get(key(tenantId, collection, id)),
    update: async (tenantId, collection, id, data, expectedVersion, at) => {
      const current = records.get(key(tenantId, collection, id));
      if (!current) throw new NotFoundError('record', id);
      if (current.version !== expectedVersion) throw new ConflictError('stale version');
      const next = { ...current, data, version: current.version + 1, updatedAt: at };
      records.set(key(tenantId, collection, id), next);
      return next;
    },
    delete: async (tenantId, collection, id) => {
      if (!records.delete(key(tenantId, collection, id))) throw new NotFoundError('record', id);
    },
    list: async () => ({ items: [] }),
  };
  const overlaps = (booking: Booking, from: string, to: string) =>
    Date.parse(booking.start) < Date.parse(to) &&
    Date.parse(booking.start) + booking.durationMinutes * 60_000 > Date.parse(from);
  const bookingRepo: BookingRepository = {
    book: async (booking) => {
      const end = new Date(Date.parse(booking.start) + booking.durationMinutes * 60_000).toISOString();
      if (bookings.some((b) => b.locationId === booking.locationId && overlaps(b, booking.start, end))) {
        throw new ConflictError('slot taken');
      }
      bookings.push(booking);
    },
    listBetween: async (tenantId, agentId, from, to) =>
      bookings.filter((b) => b.tenantId === tenantId && b.agentId === agentId && overlaps(b, from, to)),
  };
  const ports: ActionPorts = {
    messaging: {
      send: async (tenantId, request) => {
        sent.push({ port: 'messaging', tenantId, request });
        return receipt('twilio', sent.length);
      },
    },
    email: {
      send: async (tenantId, request) => {
        sent.push({ port: 'email', tenantId, request });
        return receipt('ses', sent.length);
      },
    },
    voice: {
      placeCall: async (tenantId, request) => {
        sent.push({ port: 'voice', tenantId, request });
        return receipt('connect', sent.length);
      },
    },
    payments: {
      charge: async (tenantId, request) => {
        sent.push({ port: 'payments', tenantId, request });
        return { ...receipt('local-payments', sent.length), status: 'succeeded' };
      },
    },
    resources,
    bookings: bookingRepo,
    conversations: {
      get: async (_tenantId, conversationId) =>
        ({
          id: conversationId,
          status: statuses.at(-1)?.status ?? 'active',
          agentId: 'agt_x',
          channel: 'sms',
        }) as unknown as Conversation,
      setStatus: async (_tenantId, conversationId, status) => {
        statuses.push({ conversationId, status });
        return { id: conversationId, status, agentId: 'agt_x', channel: 'sms' } as unknown as Conversation;
      },
    },
    coordinators: {
      notify: async (...args) => {
        notified.push(args);
        return { recipients: 2 };
      },
    },
    events: {
      publish: async (published) => {
        events.push(...published);
      },
    },
  };
  return { ports, sent, records, bookings, statuses, notified, events };
}

function contextWith(
  ports: ActionPorts,
  overrides: Partial<Omit<ActionContext, 'ports'>> = {},
): ActionContext {
  return {
    tenantId: 'ten_x',
    agent: agent(),
    actionId: 'act_1',
    actorUserId: 'usr_1',
    now: () => NOW,
    ports,
    ...overrides,
  };
}

function action(name: string): ActionDefinition {
  const found = findAction(name);
  if (!found) throw new Error(`no action ${name}`);
  return found;
}

/** Validates like the decision engine does, then runs the executor. */
async function run(name: string, params: unknown, context: ActionContext): Promise<Record<string, unknown>> {
  const definition = action(name);
  const parsed = definition.input().parse(params);
  return definition.execute(parsed as never, context);
}

function issuesOf(name: string, params: unknown): string[] {
  const parsed = action(name).input().safeParse(params);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('action catalog', () => {
  it('defines every action name once, in order, and finds them by name', () => {
    expect(listActions().map((a) => a.name)).toEqual([...ACTION_NAMES]);
    for (const name of ACTION_NAMES) {
      expect(isActionName(name)).toBe(true);
      expect(findAction(name)?.name).toBe(name);
    }
    expect(isActionName('calculator')).toBe(false);
    expect(findAction('calculator')).toBeUndefined();
    expect(findAction('__proto__')).toBeUndefined();
  });

  it('gives the model exactly the JSON Schema generated from each zod schema (run npm run generate:tool-schemas if this fails)', () => {
    expect(Object.keys(ACTION_INPUT_SCHEMAS).sort()).toEqual([...ACTION_NAMES].sort());
    for (const definition of listActions()) {
      expect({ action: definition.name, schema: actionJsonSchemaOf(definition) }).toEqual({
        action: definition.name,
        schema: (ACTION_INPUT_SCHEMAS as Record<string, unknown>)[definition.name],
      });
      expect(actionSpecOf(definition)).toEqual({
        name: definition.name,
        description: definition.description,
        inputSchema: actionJsonSchemaOf(definition),
      });
    }
  });

  it('prices, guards and grades each action', () => {
    const table = Object.fromEntries(
      listActions().map((a) => [a.name, [a.category, a.permission, a.cost, a.defaultLevel]]),
    );
    expect(table).toEqual({
      send_sms: ['communication', 'sms:send', 'sms', 'automatic'],
      send_whatsapp: ['communication', 'whatsapp:send', 'whatsappConversation', 'automatic'],
      send_email: ['communication', 'email:send', 'email', 'automatic'],
      place_call: ['communication', 'call:make', 'call', 'suggestion'],
      create_resource: ['resource', 'resource:write', 'resource', 'automatic'],
      read_resource: ['resource', 'resource:read', 'resource', 'automatic'],
      update_resource: ['resource', 'resource:write', 'resource', 'automatic'],
      delete_resource: ['resource', 'resource:write', 'resource', 'consultation'],
      book_appointment: ['resource', 'booking:create', 'booking', 'automatic'],
      take_payment: ['external_service', 'payment:process', 'payment', 'approval'],
      notify_coordinator: ['coordination', 'coordinator:notify', 'coordination', 'automatic'],
      escalate: ['coordination', 'coordinator:notify', 'coordination', 'automatic'],
      request_approval: ['coordination', 'coordinator:notify', 'coordination', 'approval'],
    });
  });

  it('accepts what the scripted model proposes', () => {
    const proposals: [string, Record<string, unknown>][] = [
      ['send_sms', { to: '+15550100199', body: 'Your crown is ready' }],
      ['send_whatsapp', { to: '+15550100199', body: 'see you at 10:30' }],
      ['send_email', { to: 'jo@example.com', subject: 'The invoice', body: 'Please pay by Friday.' }],
      ['place_call', { to: '+15550100199', purpose: 'the missed appointment' }],
      ['book_appointment', { start: '2026-03-14T10:30:00', service: 'cleaning' }],
      ['book_appointment', { start: '2026-04-01T09:00:00Z', service: 'consultation' }],
      ['take_payment', { amount: 49.99, currency: 'USD', description: 'the whitening session' }],
      ['escalate', { reason: 'I want to talk to a human' }],
      ['notify_coordinator', { subject: 'Broken fridge', message: 'the fridge is broken' }],
      ['request_approval', { summary: 'refund order 42' }],
    ];
    for (const [name, params] of proposals)
      expect({ name, issues: issuesOf(name, params) }).toEqual({ name, issues: [] });
    expect(
      action('book_appointment').input().parse({ start: '2026-03-14T10:30:00', service: 'cleaning' }),
    ).toEqual({
      start: '2026-03-14T10:30:00',
      service: 'cleaning',
      durationMinutes: 30,
    });
  });

  it.each([
    ['send_sms', { to: '5550100199', body: 'hi' }, 'to: must be an E.164 phone number'],
    ['send_sms', { to: '+15550100199', body: '   ' }, 'body:'],
    ['send_sms', { to: '+15550100199', body: 'hi', channel: 'voice' }, 'Unrecognized key'],
    ['send_email', { to: 'not-an-email', subject: 'S', body: 'B' }, 'to:'],
    ['take_payment', { amount: 10.005, currency: 'USD', description: 'x' }, 'amount:'],
    ['take_payment', { amount: 0, currency: 'USD', description: 'x' }, 'amount:'],
    ['take_payment', { amount: 1_000_000.01, currency: 'USD', description: 'x' }, 'amount:'],
    ['take_payment', { amount: 10, currency: 'usd', description: 'x' }, 'currency: must be an ISO 4217 code'],
    [
      'book_appointment',
      { start: '2026-03-14T10:30:00', service: 'x', durationMinutes: 20 },
      'durationMinutes:',
    ],
    [
      'book_appointment',
      { start: '2026-03-14T10:30:00', service: 'x', durationMinutes: 255 },
      'durationMinutes:',
    ],
    [
      'book_appointment',
      { start: '2026-03-14T10:40:00', service: 'x' },
      'start: must start on a quarter hour',
    ],
    ['book_appointment', { start: 'tomorrow at ten', service: 'x' }, 'start:'],
    ['create_resource', { collection: '../etc', data: {} }, 'collection:'],
    [
      'create_resource',
      { collection: 'orders', data: { blob: 'x'.repeat(17_000) } },
      'data: must be at most',
    ],
    [
      'update_resource',
      { collection: 'orders', id: 'res_1', data: {}, expectedVersion: 0 },
      'expectedVersion:',
    ],
  ])('%s refuses invalid parameters (case %#)', (name, params, expected) => {
    expect(issuesOf(name, params).join('; ')).toContain(expected);
  });

  it('ties an action to the location its parameters name', () => {
    expect(action('book_appointment').locationOf?.({ locationId: LOCATION })).toBe(LOCATION);
    expect(action('create_resource').locationOf?.({ collection: 'orders', data: {} })).toBeUndefined();
    expect(action('send_sms').locationOf).toBeUndefined();
  });
});

describe('executors: messages and calls', () => {
  it('sends through the port and returns only the receipt', async () => {
    const { ports, sent } = fakePorts();
    const context = contextWith(ports);
    expect(await run('send_sms', { to: '+15550100199', body: 'hi' }, context)).toEqual({
      provider: 'twilio',
      providerId: 'twilio-1',
      status: 'sent',
    });
    await run('send_whatsapp', { to: '+15550100199', body: 'hola' }, context);
    await run('send_email', { to: 'jo@example.com', subject: 'Invoice', body: 'Pay' }, context);
    expect(await run('place_call', { to: '+15550100199', purpose: 'confirm' }, context)).toEqual({
      provider: 'connect',
      providerId: 'connect-4',
      status: 'sent',
    });
    expect(sent).toEqual([
      { port: 'messaging', tenantId: 'ten_x', request: { channel: 'sms', to: '+15550100199', body: 'hi' } },
      {
        port: 'messaging',
        tenantId: 'ten_x',
        request: { channel: 'whatsapp', to: '+15550100199', body: 'hola' },
      },
      {
        port: 'email',
        tenantId: 'ten_x',
        request: { to: 'jo@example.com', subject: 'Invoice', body: 'Pay' },
      },
      {
        port: 'voice',
        tenantId: 'ten_x',
        request: { agentId: 'agt_x', to: '+15550100199', purpose: 'confirm' },
      },
    ]);
  });

  it('lets a provider error through unchanged', async () => {
    const { ports } = fakePorts();
    const failure = new ProviderError('twilio', false, 'unverified number', '21608');
    const context = contextWith({ ...ports, messaging: { send: async () => Promise.reject(failure) } });
    await expect(run('send_sms', { to: '+15550100199', body: 'hi' }, context)).rejects.toBe(failure);
  });
});

describe('executors: payments', () => {
  it('charges minor units once per action id', async () => {
    const { ports, sent } = fakePorts();
    const context = contextWith(ports, { customerId: 'cus_1' });
    const result = await run(
      'take_payment',
      { amount: 49.99, currency: 'USD', description: 'whitening' },
      context,
    );
    expect(result).toEqual({
      provider: 'local-payments',
      providerId: 'local-payments-1',
      status: 'succeeded',
      amount: 49.99,
      currency: 'USD',
    });
    expect(sent[0]?.request).toEqual({
      amountMinor: 4999,
      currency: 'USD',
      description: 'whitening',
      customerId: 'cus_1',
      idempotencyKey: 'act_1',
    });
  });

  it('uses the currency’s own minor unit and refuses amounts it cannot express', async () => {
    const { ports, sent } = fakePorts();
    const context = contextWith(ports);
    await run('take_payment', { amount: 1200, currency: 'JPY', description: 'x' }, context);
    await run('take_payment', { amount: 1.25, currency: 'KWD', description: 'x' }, context);
    expect(sent.map((s) => (s.request as { amountMinor: number }).amountMinor)).toEqual([1200, 1250]);
    await expect(
      run('take_payment', { amount: 10.5, currency: 'JPY', description: 'x' }, context),
    ).rejects.toThrow(/JPY has 0 decimals/);
    expect(sent).toHaveLength(2);
  });
});

describe('executors: resources', () => {
  it('creates, reads, updates and deletes a record', async () => {
    const { ports } = fakePorts();
    const context = contextWith(ports);
    const created = await run('create_resource', { collection: 'orders', data: { item: 'floss' } }, context);
    expect(created).toEqual({ collection: 'orders', id: expect.stringMatching(/^res_/), version: 1 });
    const id = created.id as string;
    expect(await run('read_resource', { collection: 'orders', id }, context)).toEqual({
      collection: 'orders',
      id,
      version: 1,
      data: { item: 'floss' },
      updatedAt: NOW.toISOString(),
    });
    expect(
      await run('update_resource', { collection: 'orders', id, data: { item: 'brush' } }, context),
    ).toEqual({
      collection: 'orders',
      id,
      version: 2,
    });
    await expect(
      run('update_resource', { collection: 'orders', id, data: { item: 'x' }, expectedVersion: 1 }, context),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await run('delete_resource', { collection: 'orders', id }, context)).toEqual({
      collection: 'orders',
      id,
      deleted: true,
    });
    await expect(run('read_resource', { collection: 'orders', id }, context)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('keeps records of another location out of reach', async () => {
    const { ports, records } = fakePorts();
    const there = contextWith(ports, { locationId: OTHER_LOCATION });
    const created = await run('create_resource', { collection: 'orders', data: {} }, there);
    expect([...records.values()][0]?.locationId).toBe(OTHER_LOCATION);
    const here = contextWith(ports, { locationId: LOCATION });
    const id = created.id as string;
    await expect(run('read_resource', { collection: 'orders', id }, here)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(run('delete_resource', { collection: 'orders', id }, here)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(records.size).toBe(1);
  });
});

describe('executors: bookings', () => {
  const book = (params: Record<string, unknown>, context: ActionContext) =>
    run('book_appointment', params, context);

  it('books a free slot within business hours', async () => {
    const { ports, bookings } = fakePorts();
    const context = contextWith(ports, { agent: agent(WEEKDAY_HOURS), customerId: 'cus_1' });
    const result = await book(
      { start: '2026-03-11T09:00:00', service: 'cleaning', durationMinutes: 45 },
      context,
    );
    expect(result).toEqual({
      bookingId: expect.stringMatching(/^bkg_/),
      start: '2026-03-11T09:00:00.000Z',
      end: '2026-03-11T09:45:00.000Z',
      durationMinutes: 45,
      service: 'cleaning',
      status: 'booked',
    });
    expect(bookings).toEqual([
      expect.objectContaining({
        agentId: 'agt_x',
        customerId: 'cus_1',
        createdBy: 'usr_1',
        durationMinutes: 45,
      }),
    ]);
  });

  it.each([
    [{ start: '2026-03-10T11:00:00Z', service: 'x' }, 'in_past', /not in the future/],
    [{ start: '2026-03-14T10:00:00Z', service: 'x' }, 'outside_hours', /closed on sat/],
    [
      { start: '2026-03-17T11:45:00Z', service: 'x' },
      'outside_hours',
      /outside the tue hours \(09:00-12:00, 13:00-17:00\)/,
    ],
    [{ start: '2026-03-11T16:45:00Z', service: 'x' }, 'outside_hours', /30 minutes from 16:45 UTC/],
  ])('refuses %j with 409 %s', async (params, reason, message) => {
    const { ports, bookings } = fakePorts();
    const context = contextWith(ports, { agent: agent(WEEKDAY_HOURS) });
    const error = await book(params, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({
      statusCode: 409,
      details: { reason },
      message: expect.stringMatching(message),
    });
    expect(bookings).toEqual([]);
  });

  it('takes any time when the agent has no hours, and refuses a taken slot', async () => {
    const { ports, bookings } = fakePorts();
    const context = contextWith(ports);
    await book({ start: '2026-03-14T22:00:00+01:00', service: 'cleaning', durationMinutes: 60 }, context);
    const clash = await book({ start: '2026-03-14T21:30:00Z', service: 'whitening' }, context).catch(
      (e: unknown) => e,
    );
    expect(clash).toMatchObject({ statusCode: 409, details: { reason: 'slot_taken' } });
    // Another location has its own calendar.
    await book({ start: '2026-03-14T21:30:00Z', service: 'whitening', locationId: LOCATION }, context);
    expect(bookings.map((b) => [b.start, b.locationId])).toEqual([
      ['2026-03-14T21:00:00.000Z', undefined],
      ['2026-03-14T21:30:00.000Z', LOCATION],
    ]);
  });

  it('reports a slot taken between the check and the booking as unavailable', async () => {
    const { ports } = fakePorts();
    const racing: BookingRepository = {
      listBetween: async () => [],
      book: async () => Promise.reject(new ConflictError('condition failed')),
    };
    const context = contextWith({ ...ports, bookings: racing });
    await expect(book({ start: '2026-03-14T10:00:00Z', service: 'x' }, context)).rejects.toMatchObject({
      statusCode: 409,
      details: { reason: 'slot_taken' },
    });
  });
});

describe('executors: coordination', () => {
  it('notifies coordinators with the references of the action', async () => {
    const { ports, notified } = fakePorts();
    const context = contextWith(ports, { locationId: LOCATION, conversationId: 'cnv_1' });
    expect(await run('notify_coordinator', { subject: 'Fridge', message: 'It is broken' }, context)).toEqual({
      recipients: 2,
      status: 'notified',
    });
    expect(notified).toEqual([
      [
        'ten_x',
        {
          subject: 'Fridge',
          body: 'It is broken',
          agentId: 'agt_x',
          locationId: LOCATION,
          conversationId: 'cnv_1',
        },
      ],
    ]);
  });

  it('escalates by handing the conversation off, then telling coordinators and the bus, once', async () => {
    const { ports, notified, statuses, events } = fakePorts();
    const result = await run(
      'escalate',
      { reason: 'wants a human' },
      contextWith(ports, { conversationId: 'cnv_1' }),
    );
    expect(result).toEqual({ conversationHandedOff: true, recipients: 2, status: 'escalated' });
    expect(statuses).toEqual([{ conversationId: 'cnv_1', status: 'handoff' }]);
    expect(notified[0]?.[1]).toMatchObject({
      body: expect.stringContaining('Reason: wants a human'),
      conversationId: 'cnv_1',
    });
    expect(events.filter((e) => e.type === 'conversation.handoff').map((e) => e.detail)).toEqual([
      expect.objectContaining({
        conversationId: 'cnv_1',
        by: 'agent:agt_x',
        reason: 'wants a human',
        recipients: 2,
      }),
    ]);
    // Again on a conversation already handed off: nobody is told twice.
    expect(
      await run('escalate', { reason: 'again' }, contextWith(ports, { conversationId: 'cnv_1' })),
    ).toMatchObject({ status: 'already_handed_off', recipients: 0 });
    expect(notified).toHaveLength(1);

    const noConversation = fakePorts();
    expect(await run('escalate', { reason: 'x' }, contextWith(noConversation.ports))).toMatchObject({
      conversationHandedOff: false,
    });
    expect(noConversation.statuses).toEqual([]);
  });

  it('records an approved request and says when nobody could be reached', async () => {
    const { ports } = fakePorts();
    expect(
      await run('request_approval', { summary: 'refund order 42', details: 'damaged' }, contextWith(ports)),
    ).toEqual({
      status: 'approved',
      summary: 'refund order 42',
    });
    const nobody = contextWith({ ...ports, coordinators: { notify: async () => ({ recipients: 0 }) } });
    expect(await run('notify_coordinator', { subject: 'S', message: 'M' }, nobody)).toEqual({
      recipients: 0,
      status: 'no_recipient_reached',
    });
  });
});
