import { ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import { epochSeconds } from './calendar';
import {
  apply,
  type BillingDeps,
  type ChargeContext,
  change,
  chargeOf,
  claim,
  contextOf,
  DEFAULT_HOLD_SECONDS,
  MAX_HOLD_SECONDS,
  openReservation,
  type ReserveOptions,
  requireSpendable,
  tokens,
  usage,
} from './ledger';
import type { LedgerEntry, Reservation } from './ports';

/** Costed operations (DESIGN §3.7): reserve → settle | release, or a one-shot debit. */

/**
 * Holds `amount` tokens for an operation about to run: 402 INSUFFICIENT_BALANCE when they are
 * not there, 402 TENANT_SUSPENDED while the tenant is suspended (checked inside the transaction,
 * so a suspension that commits first wins). The same key again returns the same reservation.
 */
export async function reserve(
  deps: BillingDeps,
  tenantId: string,
  amount: number,
  options: ReserveOptions,
  key: string,
  actor: string,
): Promise<Reservation> {
  tokens('amount', amount);
  const context = contextOf(options);
  const holdSeconds = options.holdSeconds ?? DEFAULT_HOLD_SECONDS;
  if (!Number.isInteger(holdSeconds) || holdSeconds < 60 || holdSeconds > MAX_HOLD_SECONDS) {
    throw ValidationError.forField('holdSeconds', `must be whole seconds from 60 to ${MAX_HOLD_SECONDS}`);
  }
  const reservationId = newId('reservation');
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    {
      tenantId,
      readTenant: true,
      concurrent: true,
      claim: claim('reserve', key, { amount, ...context, holdSeconds }),
    },
    (s) => {
      requireSpendable(s, tenantId, amount);
      const at = deps.now();
      const reservation: Reservation = {
        id: reservationId,
        tenantId,
        amount,
        ...context,
        status: 'held',
        createdAt: at.toISOString(),
        holdUntil: epochSeconds(at) + holdSeconds,
      };
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: -amount, reserved: amount },
        { type: 'reservation', ...context, reservationId },
        { reservation: { open: reservation }, requireActiveTenant: true },
        'delta',
      );
    },
  );
  const reservation = outcome.change.reservation;
  if (!reservation) throw new Error(`Reservation missing from the record of ${entryId}`);
  return reservation;
}

/**
 * Closes a held reservation with what the operation really cost (at most what was held): the
 * unused part goes back to the available balance, and the cost is usage of its agent and action.
 * 409 if the reservation was already settled or released (e.g. by housekeeping after its hold).
 */
export async function settle(
  deps: BillingDeps,
  tenantId: string,
  reservationId: string,
  actualAmount: number,
  key: string,
  actor: string,
  options: { readonly usd?: number } = {},
): Promise<LedgerEntry> {
  tokens('actualAmount', actualAmount, 0);
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    {
      tenantId,
      reservationId,
      concurrent: true,
      claim: claim('settle', key, { reservationId, actualAmount, usd: options.usd }),
    },
    (s) => {
      const reservation = openReservation(s, reservationId);
      if (actualAmount > reservation.amount) {
        throw ValidationError.forField('actualAmount', `must not exceed the ${reservation.amount} reserved`);
      }
      const at = deps.now();
      const context = chargeOf(reservation);
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: reservation.amount - actualAmount, reserved: -reservation.amount },
        { type: 'settlement', charged: actualAmount, ...context, reservationId, usd: options.usd },
        {
          reservation: {
            close: { ...reservation, status: 'settled', closedAt: at.toISOString(), charged: actualAmount },
          },
          ...(actualAmount > 0 ? { usage: usage(at, actualAmount, 0, context) } : {}),
        },
        'delta',
      );
    },
  );
  return outcome.change.entry;
}

/** Gives a held reservation back in full (the operation failed or did not happen). */
export async function release(
  deps: BillingDeps,
  tenantId: string,
  reservationId: string,
  key: string,
  actor: string,
): Promise<LedgerEntry> {
  return (await releaseReservation(deps, tenantId, reservationId, key, actor)).entry;
}

export async function releaseReservation(
  deps: BillingDeps,
  tenantId: string,
  reservationId: string,
  key: string,
  actor: string,
): Promise<{ entry: LedgerEntry; replayed: boolean }> {
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    { tenantId, reservationId, concurrent: true, claim: claim('release', key, { reservationId }) },
    (s) => {
      const reservation = openReservation(s, reservationId);
      const at = deps.now();
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: reservation.amount, reserved: -reservation.amount },
        { type: 'release', ...chargeOf(reservation), reservationId },
        { reservation: { close: { ...reservation, status: 'released', closedAt: at.toISOString() } } },
        'delta',
      );
    },
  );
  return { entry: outcome.change.entry, replayed: outcome.kind === 'replayed' };
}

/**
 * Charges a known cost at once (reserve and settle in one step), e.g. a model call after it
 * returned, with its USD cost beside it. Recorded as a settlement without a reservation.
 */
export async function debit(
  deps: BillingDeps,
  tenantId: string,
  amount: number,
  context: ChargeContext & { readonly usd?: number },
  key: string,
  actor: string,
): Promise<LedgerEntry> {
  tokens('amount', amount);
  const charge = contextOf(context);
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    {
      tenantId,
      readTenant: true,
      concurrent: true,
      claim: claim('debit', key, { amount, ...charge, usd: context.usd }),
    },
    (s) => {
      requireSpendable(s, tenantId, amount);
      const at = deps.now();
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: -amount, reserved: 0 },
        { type: 'settlement', charged: amount, ...charge, usd: context.usd },
        { usage: usage(at, amount, 0, charge), requireActiveTenant: true },
        'delta',
      );
    },
  );
  return outcome.change.entry;
}
