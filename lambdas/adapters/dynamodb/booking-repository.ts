import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Booking, BookingRepository } from '../../domain/actions/ports';
import { ConflictError, ValidationError } from '../../domain/shared/errors';
import { transactionItemAtFailure } from './conditions';
import type { TableClient } from './document-client';
import { queryAll } from './pagination';

/**
 * Bookings (appointments an agent makes) and the slots they hold.
 *   booking  pk = T#<tenantId>#AGENT#<agentId>#BOOKINGS  sk = <start, ISO UTC>#<bookingId>
 *            endsAt = start + duration (for the overlap filter)
 *   slot     pk = T#<tenantId>#AGENT#<agentId>#SLOTS     sk = <locationId, or "-">#<grain start, ISO UTC>
 *            → bookingId
 *
 * Time is cut into 15-minute grains; a booking holds every grain it touches, per agent and
 * location (an agent serving two locations keeps two calendars; bookings without a location
 * share one). Booking is one transaction: the booking and all its slots, each
 * `attribute_not_exists`, so either the whole appointment is held or nothing is written, and of
 * two overlapping bookings racing, exactly one gets the slot they share.
 */
export const SLOT_MINUTES = 15;
/** 1 booking + at most 97 grains (a day, misaligned) stays within a transaction's 100 items. */
export const MAX_BOOKING_MINUTES = 24 * 60;
const GRAIN_MS = SLOT_MINUTES * 60_000;

const bookingsPartition = (tenantId: string, agentId: string) => `T#${tenantId}#AGENT#${agentId}#BOOKINGS`;
const slotKey = (booking: Booking, grainStart: string) => ({
  pk: `T#${booking.tenantId}#AGENT#${booking.agentId}#SLOTS`,
  sk: `${booking.locationId ?? '-'}#${grainStart}`,
});

function instant(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw ValidationError.forField(field, 'must be an ISO 8601 instant');
  return ms;
}

/** Start instants of the grains that [start, end) touches. */
function grainsOf(startMs: number, endMs: number): string[] {
  const grains: string[] = [];
  for (let at = Math.floor(startMs / GRAIN_MS) * GRAIN_MS; at < endMs; at += GRAIN_MS) {
    grains.push(new Date(at).toISOString());
  }
  return grains;
}

function toBooking(item: Record<string, unknown>): Booking {
  const { pk: _pk, sk: _sk, entity: _e, endsAt: _end, ...rest } = item;
  const { id, tenantId, agentId, start, durationMinutes, ...details } = rest as unknown as Booking;
  return { id, tenantId, agentId, start, durationMinutes, ...details };
}

export class DynamoBookingRepository implements BookingRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async book(booking: Booking): Promise<void> {
    const startMs = instant(booking.start, 'start');
    if (
      !Number.isInteger(booking.durationMinutes) ||
      booking.durationMinutes < 1 ||
      booking.durationMinutes > MAX_BOOKING_MINUTES
    ) {
      throw ValidationError.forField(
        'durationMinutes',
        `must be a whole number from 1 to ${MAX_BOOKING_MINUTES}`,
      );
    }
    const endMs = startMs + booking.durationMinutes * 60_000;
    const start = new Date(startMs).toISOString();
    const grains = grainsOf(startMs, endMs);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: bookingsPartition(booking.tenantId, booking.agentId),
                  sk: `${start}#${booking.id}`,
                  entity: 'booking',
                  endsAt: new Date(endMs).toISOString(),
                  ...booking,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...grains.map((grain) => ({
              Put: {
                TableName: this.tableName,
                Item: { ...slotKey(booking, grain), entity: 'bookingSlot', bookingId: booking.id },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
              },
            })),
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      if (transactionItemAtFailure(error, 0).failed)
        throw new ConflictError(`Booking ${booking.id} already exists`);
      const reasons = error.CancellationReasons ?? [];
      for (const [n, grain] of grains.entries()) {
        const failure = transactionItemAtFailure(error, n + 1);
        const racing = reasons[n + 1]?.Code === 'TransactionConflict';
        if (!failure.failed && !racing) continue;
        const holder = failure.item?.bookingId;
        throw new ConflictError(
          `The ${SLOT_MINUTES}-minute slot at ${grain} is ${racing ? 'being booked by someone else' : 'already booked'}${
            booking.locationId ? ` at location ${booking.locationId}` : ''
          }`,
          {
            slot: grain,
            ...(booking.locationId ? { locationId: booking.locationId } : {}),
            ...(typeof holder === 'string' ? { bookingId: holder } : {}),
          },
        );
      }
      throw error;
    }
  }

  /**
   * Bookings overlapping [from, to): those starting before `to` and ending after `from`. The key
   * range starts MAX_BOOKING_MINUTES before `from` (no booking is longer), the end is a filter.
   */
  async listBetween(tenantId: string, agentId: string, from: string, to: string): Promise<Booking[]> {
    const fromMs = instant(from, 'from');
    const toMs = instant(to, 'to');
    if (fromMs >= toMs) return [];
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      // Sort keys are `<start>#<id>`: BETWEEN's inclusive end, a bare instant, excludes starts at `to`.
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :to',
      FilterExpression: 'endsAt > :from',
      ExpressionAttributeValues: {
        ':pk': bookingsPartition(tenantId, agentId),
        ':lo': new Date(fromMs - MAX_BOOKING_MINUTES * 60_000).toISOString(),
        ':to': new Date(toMs).toISOString(),
        ':from': new Date(fromMs).toISOString(),
      },
      ConsistentRead: true,
    });
    return items.map(toBooking);
  }
}
