import { ConflictError, NotFoundError } from '../shared/errors';
import { UNSCOPED } from '../shared/scopes';
import { epochSeconds, hourOf, hoursBefore, nextHour } from './calendar';
import { type BillingDeps, HOUSEKEEPING_ACTOR } from './ledger';
import { releaseReservation } from './spending';

/** Housekeeping: reservations nobody settled are released after their hold. */

export interface HousekeepingResult {
  readonly released: number;
  /** Settled or released by someone else between the index read and the release. */
  readonly alreadyClosed: number;
  readonly failed: number;
  /** Hour buckets of the held-reservation index looked at. */
  readonly hours: number;
  /** False when the run stopped at `maxReleases` or on a failure: the next run goes on from there. */
  readonly complete: boolean;
}

/**
 * Releases reservations still held after their hold, from the platform-level index of held
 * reservations (bucketed by the hour their hold ends; no Scan). Each run looks at the buckets
 * from the sweep mark (the first hour that may still hold some) to now, then moves the mark to
 * the current hour, so a run missed or failed is caught up by the next. Without a mark it looks
 * `lookbackHours` back.
 */
export async function releaseExpiredReservations(
  deps: BillingDeps,
  now: Date,
  options: {
    readonly maxReleases?: number;
    readonly lookbackHours?: number;
    readonly concurrency?: number;
  } = {},
): Promise<HousekeepingResult> {
  const scopes = deps.scopes ?? UNSCOPED;
  const maxReleases = options.maxReleases ?? 1000;
  const concurrency = options.concurrency ?? 8;
  const nowEpoch = epochSeconds(now);
  const currentHour = hourOf(now);
  const mark =
    (await scopes.platform(() => deps.billing.getSweepMark())) ??
    hoursBefore(now, options.lookbackHours ?? 24);
  let released = 0;
  let alreadyClosed = 0;
  let failed = 0;
  let hours = 0;
  let complete = true;
  sweep: for (let hour = mark; hour <= currentHour; hour = nextHour(hour)) {
    hours++;
    let cursor: string | undefined;
    do {
      const page = await scopes.platform(() =>
        deps.billing.listExpiredHolds(hour, nowEpoch, {
          limit: 100,
          ...(cursor === undefined ? {} : { cursor }),
        }),
      );
      for (let i = 0; i < page.items.length; i += concurrency) {
        await Promise.all(
          page.items.slice(i, i + concurrency).map(async (hold) => {
            try {
              // The index is platform-level; the release is the tenant's, under its credentials.
              const { replayed } = await scopes.tenant(hold.tenantId, () =>
                releaseReservation(
                  deps,
                  hold.tenantId,
                  hold.reservationId,
                  `expired:${hold.reservationId}`,
                  HOUSEKEEPING_ACTOR,
                ),
              );
              if (replayed) alreadyClosed++;
              else released++;
            } catch (error) {
              if (error instanceof ConflictError || error instanceof NotFoundError) {
                alreadyClosed++;
              } else {
                failed++;
                deps.log?.error('Expired reservation not released', {
                  tenantId: hold.tenantId,
                  reservationId: hold.reservationId,
                  error: error instanceof Error ? error.message : String(error),
                });
              }
            }
          }),
        );
      }
      if (released + alreadyClosed + failed >= maxReleases) {
        complete = false;
        break sweep;
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  if (failed > 0) complete = false;
  if (complete && currentHour > mark) await scopes.platform(() => deps.billing.setSweepMark(currentHour));
  return { released, alreadyClosed, failed, hours, complete };
}
