import { errorResponse } from '../../http/error-response';
import { eventsOf, totalUsage } from './billing';
import { addDays, daysInRange, hourOf, isDay, nextHour, periodOf } from './calendar';
import { DEFAULT_COST_TABLE, parseCostTable } from './costs';
import { InsufficientBalanceError, TenantSuspendedError } from './errors';
import type { Balance, LedgerEntry } from './ports';

describe('cost table', () => {
  it('defaults to the issue’s prices and parses an environment’s own', () => {
    expect(parseCostTable(undefined)).toEqual(DEFAULT_COST_TABLE);
    expect(parseCostTable(JSON.stringify({ ...DEFAULT_COST_TABLE, sms: 2 })).sms).toBe(2);
  });

  it('fails loudly on a malformed or incomplete table, naming the field', () => {
    expect(() => parseCostTable('{')).toThrow(/TOKEN_COSTS: not JSON/);
    expect(() => parseCostTable(JSON.stringify({ ...DEFAULT_COST_TABLE, call: -1 }))).toThrow(/call/);
    const { sms: _dropped, ...withoutSms } = DEFAULT_COST_TABLE;
    expect(() => parseCostTable(JSON.stringify(withoutSms))).toThrow(/sms/);
  });
});

describe('calendar', () => {
  it('works in UTC days, months and hours', () => {
    const at = new Date('2026-12-31T23:30:00.000Z');
    expect(periodOf(at)).toBe('2026-12');
    expect(hourOf(at)).toBe('2026-12-31T23');
    expect(nextHour('2026-12-31T23')).toBe('2027-01-01T00');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysInRange('2026-01-01', '2026-12-31')).toBe(365);
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2026-02-30')).toBe(false);
    expect(isDay('2026-2-3')).toBe(false);
  });
});

describe('events of a change', () => {
  const balance = (available: number): Balance => ({
    tenantId: 'ten_1',
    available,
    reserved: 0,
    lowBalanceThreshold: 20,
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  const entry = (fields: Partial<LedgerEntry>): LedgerEntry => ({
    id: 'led_1',
    tenantId: 'ten_1',
    type: 'settlement',
    amount: 0,
    availableAfter: 0,
    reservedAfter: 0,
    idempotencyKey: 'k',
    actor: 'usr_1',
    createdAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  });
  const at = new Date('2026-01-01T00:00:01.000Z');

  it('debits what a settlement charged, and warns once the balance drops below the threshold', () => {
    const events = eventsOf(
      {
        kind: 'applied',
        change: {
          entry: entry({ amount: -5, charged: 5, availableAfter: 18, agentId: 'agt_1', action: 'sms' }),
        },
        before: balance(23),
        after: balance(18),
      },
      at,
    );
    expect(events.map((e) => [e.type, e.detail])).toEqual([
      [
        'tokens.debited',
        {
          tenantId: 'ten_1',
          amount: 5,
          availableAfter: 18,
          entryId: 'led_1',
          entryType: 'settlement',
          agentId: 'agt_1',
          action: 'sms',
        },
      ],
      ['balance.low', { tenantId: 'ten_1', available: 18, threshold: 20 }],
    ]);
  });

  it('says nothing for a reservation above the threshold, nor for a balance already low', () => {
    const quiet = (before: number, after: number) =>
      eventsOf(
        {
          kind: 'applied',
          change: { entry: entry({ type: 'reservation', amount: after - before, availableAfter: after }) },
          before: balance(before),
          after: balance(after),
        },
        at,
      );
    expect(quiet(100, 50)).toEqual([]);
    expect(quiet(19, 10)).toEqual([]);
    expect(quiet(20, 19).map((e) => e.type)).toEqual(['balance.low']);
  });

  it('credits purchases and grants', () => {
    const events = eventsOf(
      {
        kind: 'applied',
        change: { entry: entry({ type: 'grant', amount: 40, availableAfter: 40 }) },
        before: balance(0),
        after: balance(40),
      },
      at,
    );
    expect(events.map((e) => [e.type, e.detail])).toEqual([
      ['tokens.credited', expect.objectContaining({ amount: 40, entryType: 'grant' })],
    ]);
  });
});

describe('usage totals', () => {
  it('adds days up by agent and action, and keeps the days', () => {
    expect(
      totalUsage([
        { day: '2026-01-01', charged: 11, credited: 100, byAgent: { a: 11 }, byAction: { sms: 1, call: 10 } },
        { day: '2026-01-03', charged: 200, credited: 0, byAgent: {}, byAction: { monthlyFee: 200 } },
        { day: '2026-01-04', charged: 2, credited: 0, byAgent: { a: 1, b: 1 }, byAction: { sms: 2 } },
      ]),
    ).toEqual({
      charged: 213,
      credited: 100,
      byAgent: { a: 12, b: 1 },
      byAction: { sms: 3, call: 10, monthlyFee: 200 },
      byDay: [
        { day: '2026-01-01', charged: 11, credited: 100 },
        { day: '2026-01-03', charged: 200, credited: 0 },
        { day: '2026-01-04', charged: 2, credited: 0 },
      ],
    });
  });
});

describe('402 responses', () => {
  it('name what is available and what was required', () => {
    const unexpected = jest.fn();
    for (const [error, code] of [
      [new InsufficientBalanceError(3, 50), 'INSUFFICIENT_BALANCE'],
      [new TenantSuspendedError(3, 50), 'TENANT_SUSPENDED'],
    ] as const) {
      const response = errorResponse(error, unexpected);
      expect(response.statusCode).toBe(402);
      expect(JSON.parse(response.body ?? '{}')).toMatchObject({
        error: { code, details: { available: 3, required: 50 } },
      });
    }
    expect(unexpected).not.toHaveBeenCalled();
  });
});
