import { ProviderError } from '../../domain/actions/ports';
import { ValidationError } from '../../domain/shared/errors';
import { idSchema } from '../../domain/shared/ids';
import { LocalOutbox, localOutbox } from './local-outbox';

const TENANT = 'ten_01J0000000000000000000000A';
const OTHER_TENANT = 'ten_01J0000000000000000000000B';
const AGENT = 'agt_01J0000000000000000000000C';

let clock: number;
const outbox = (maxPerTenant?: number) =>
  new LocalOutbox({ now: () => new Date(clock++), ...(maxPerTenant ? { maxPerTenant } : {}) });

const payment = (overrides: Partial<Parameters<LocalOutbox['charge']>[1]> = {}) => ({
  amountMinor: 4500,
  currency: 'USD',
  description: 'Cleaning deposit',
  customerId: 'cus_1',
  idempotencyKey: 'act_1',
  ...overrides,
});

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

beforeEach(() => {
  clock = Date.UTC(2025, 0, 15, 9, 0, 0);
});

describe('LocalOutbox', () => {
  it('records each kind of send with what it carried, and returns outbox receipts', async () => {
    const box = outbox();
    const sms = await box.send(TENANT, { channel: 'sms', to: '+15550100199', body: 'See you at 10' });
    const wa = await box.send(TENANT, { channel: 'whatsapp', to: '+15550100199', body: 'Hola' });
    const mail = await box.send(TENANT, {
      to: 'jane@example.com',
      subject: 'Booked',
      body: 'Tomorrow 10:00',
    });
    const call = await box.placeCall(TENANT, { agentId: AGENT, to: '+15550100199', purpose: 'Confirm' });

    for (const receipt of [sms, wa, mail, call]) {
      expect(receipt).toEqual({ provider: 'outbox', providerId: expect.any(String), status: 'recorded' });
      expect(idSchema('outbox').safeParse(receipt.providerId).success).toBe(true);
    }
    const { items, nextCursor } = box.list(TENANT, { limit: 10 });
    expect(nextCursor).toBeUndefined();
    expect(items).toEqual([
      {
        id: call.providerId,
        tenantId: TENANT,
        kind: 'call',
        to: '+15550100199',
        agentId: AGENT,
        purpose: 'Confirm',
        createdAt: '2025-01-15T09:00:00.003Z',
      },
      {
        id: mail.providerId,
        tenantId: TENANT,
        kind: 'email',
        to: 'jane@example.com',
        subject: 'Booked',
        body: 'Tomorrow 10:00',
        createdAt: '2025-01-15T09:00:00.002Z',
      },
      {
        id: wa.providerId,
        tenantId: TENANT,
        kind: 'whatsapp',
        to: '+15550100199',
        body: 'Hola',
        createdAt: '2025-01-15T09:00:00.001Z',
      },
      {
        id: sms.providerId,
        tenantId: TENANT,
        kind: 'sms',
        to: '+15550100199',
        body: 'See you at 10',
        createdAt: '2025-01-15T09:00:00.000Z',
      },
    ]);
  });

  it('keeps tenants apart', async () => {
    const box = outbox();
    await box.send(TENANT, { channel: 'sms', to: '+15550100199', body: 'for A' });
    await box.send(OTHER_TENANT, { channel: 'sms', to: '+15550100199', body: 'for B' });

    expect(box.list(TENANT, { limit: 10 }).items.map((r) => r.body)).toEqual(['for A']);
    expect(box.list(OTHER_TENANT, { limit: 10 }).items.map((r) => r.body)).toEqual(['for B']);
    expect(box.list('ten_nobody', { limit: 10 })).toEqual({ items: [] });
  });

  it('pages newest first with a cursor, filtered by kind', async () => {
    const box = outbox();
    for (let i = 1; i <= 5; i++) {
      await box.send(TENANT, { channel: 'sms', to: '+15550100199', body: `sms ${i}` });
      await box.send(TENANT, { to: 'a@b.example', subject: 's', body: `email ${i}` });
    }
    const first = box.list(TENANT, { limit: 2, kind: 'sms' });
    expect(first.items.map((r) => r.body)).toEqual(['sms 5', 'sms 4']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = box.list(TENANT, { limit: 2, kind: 'sms', cursor: first.nextCursor });
    expect(second.items.map((r) => r.body)).toEqual(['sms 3', 'sms 2']);
    const third = box.list(TENANT, { limit: 2, kind: 'sms', cursor: second.nextCursor });
    expect(third).toEqual({ items: [expect.objectContaining({ body: 'sms 1' })] });

    const all = box.list(TENANT, { limit: 3 });
    expect(all.items.map((r) => r.body)).toEqual(['email 5', 'sms 5', 'email 4']);
  });

  it('keeps its place across pages while new records arrive', async () => {
    const box = outbox();
    for (let i = 1; i <= 4; i++) await box.send(TENANT, { channel: 'sms', to: '+1555', body: `${i}` });
    const first = box.list(TENANT, { limit: 2 });
    await box.send(TENANT, { channel: 'sms', to: '+1555', body: 'new' });
    const second = box.list(TENANT, { limit: 2, cursor: first.nextCursor });
    expect(second.items.map((r) => r.body)).toEqual(['2', '1']);
  });

  it("refuses a cursor from another tenant's or another kind's listing, or a made-up one", async () => {
    const box = outbox();
    for (let i = 0; i < 3; i++) await box.send(TENANT, { channel: 'sms', to: '+1555', body: `${i}` });
    const { nextCursor } = box.list(TENANT, { limit: 1 });

    expect(() => box.list(OTHER_TENANT, { limit: 1, cursor: nextCursor })).toThrow(ValidationError);
    expect(() => box.list(TENANT, { limit: 1, kind: 'sms', cursor: nextCursor })).toThrow(ValidationError);
    expect(() => box.list(TENANT, { limit: 1, cursor: 'bm90IGEgY3Vyc29y' })).toThrow(ValidationError);
  });

  it('keeps only the newest records per tenant', async () => {
    const box = outbox(3);
    for (let i = 1; i <= 5; i++) await box.send(TENANT, { channel: 'sms', to: '+1555', body: `${i}` });
    await box.send(OTHER_TENANT, { channel: 'sms', to: '+1555', body: 'other' });
    expect(box.list(TENANT, { limit: 10 }).items.map((r) => r.body)).toEqual(['5', '4', '3']);
    expect(box.list(OTHER_TENANT, { limit: 10 }).items).toHaveLength(1);
  });

  describe('payments', () => {
    it('records a charge and names the local payment provider on the receipt', async () => {
      const box = outbox();
      const receipt = await box.charge(TENANT, payment());
      expect(receipt).toEqual({
        provider: 'local-payments',
        providerId: expect.any(String),
        status: 'succeeded',
      });
      expect(box.list(TENANT, { limit: 5, kind: 'payment' }).items).toEqual([
        {
          id: receipt.providerId,
          tenantId: TENANT,
          kind: 'payment',
          amountMinor: 4500,
          currency: 'USD',
          description: 'Cleaning deposit',
          customerId: 'cus_1',
          createdAt: '2025-01-15T09:00:00.000Z',
        },
      ]);
    });

    it('charges once per idempotency key and returns the same receipt again', async () => {
      const box = outbox();
      const first = await box.charge(TENANT, payment());
      const again = await box.charge(TENANT, payment());
      const concurrent = await Promise.all([
        box.charge(TENANT, payment({ idempotencyKey: 'act_2' })),
        box.charge(TENANT, payment({ idempotencyKey: 'act_2' })),
      ]);

      expect(again).toEqual(first);
      expect(concurrent[0]).toEqual(concurrent[1]);
      expect(box.list(TENANT, { limit: 10, kind: 'payment' }).items).toHaveLength(2);
    });

    it('scopes idempotency keys per tenant', async () => {
      const box = outbox();
      const a = await box.charge(TENANT, payment());
      const b = await box.charge(OTHER_TENANT, payment());
      expect(b.providerId).not.toBe(a.providerId);
      expect(box.list(OTHER_TENANT, { limit: 10 }).items).toHaveLength(1);
    });

    it('refuses a key reused for a different payment', async () => {
      const box = outbox();
      await box.charge(TENANT, payment());
      const error = await failureOf(box.charge(TENANT, payment({ amountMinor: 9900 })));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        provider: 'local-payments',
        retryable: false,
        providerCode: 'idempotency_key_reused',
      });
      expect(box.list(TENANT, { limit: 10 }).items).toHaveLength(1);
    });

    it('refuses amounts that are not positive whole minor units, and bad currencies', async () => {
      const box = outbox();
      for (const bad of [
        payment({ amountMinor: 0 }),
        payment({ amountMinor: 12.5 }),
        payment({ currency: 'usd' }),
      ]) {
        expect(await failureOf(box.charge(TENANT, bad))).toMatchObject({ retryable: false });
      }
      expect(box.list(TENANT, { limit: 10 }).items).toEqual([]);
    });
  });

  describe('failNext', () => {
    it('makes the next send of that kind throw the given error, once, recording nothing', async () => {
      const box = outbox();
      const refused = new ProviderError('twilio', true, 'HTTP 503');
      box.failNext('sms', refused);

      const email = await box.send(TENANT, { to: 'a@b.example', subject: 's', body: 'unaffected' });
      expect(email.status).toBe('recorded');
      await expect(box.send(TENANT, { channel: 'sms', to: '+1555', body: 'x' })).rejects.toBe(refused);
      await expect(box.send(TENANT, { channel: 'sms', to: '+1555', body: 'y' })).resolves.toMatchObject({
        status: 'recorded',
      });
      expect(box.list(TENANT, { limit: 10, kind: 'sms' }).items.map((r) => r.body)).toEqual(['y']);
    });

    it('queues failures, and applies to calls and payments too', async () => {
      const box = outbox();
      box.failNext('call', new Error('first'));
      box.failNext('call', new Error('second'));
      box.failNext('payment', new ProviderError('local-payments', true, 'down'));
      const call = { agentId: AGENT, to: '+1555', purpose: 'p' };

      await expect(box.placeCall(TENANT, call)).rejects.toThrow('first');
      await expect(box.placeCall(TENANT, call)).rejects.toThrow('second');
      await expect(box.placeCall(TENANT, call)).resolves.toMatchObject({ status: 'recorded' });
      await expect(box.charge(TENANT, payment())).rejects.toThrow('down');
      // The failed attempt charged nothing, so the retry with the same key charges now.
      await expect(box.charge(TENANT, payment())).resolves.toMatchObject({ status: 'succeeded' });
      expect(box.list(TENANT, { limit: 10, kind: 'payment' }).items).toHaveLength(1);
    });

    it('is forgotten by clear, with the records', async () => {
      const box = outbox();
      await box.send(TENANT, { channel: 'sms', to: '+1555', body: 'x' });
      box.failNext('sms', new Error('boom'));
      box.clear();
      await expect(box.send(TENANT, { channel: 'sms', to: '+1555', body: 'y' })).resolves.toBeDefined();
      expect(box.list(TENANT, { limit: 10 }).items.map((r) => r.body)).toEqual(['y']);
    });
  });

  it('exports one process-wide instance', () => {
    expect(localOutbox).toBeInstanceOf(LocalOutbox);
  });
});
