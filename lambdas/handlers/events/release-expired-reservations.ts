import { billingDeps } from '../../composition/billing';
import { inPlatformScope } from '../../composition/tenant-scope';
import { releaseExpiredReservations } from '../../domain/billing/billing';
import { logger } from '../../observability';

/**
 * Housekeeping on a schedule (every few minutes): gives back the tokens of reservations whose
 * hold ran out without a settle or release (a crashed worker, a lost message). Safe to run
 * concurrently or twice: each release is a conditional change under the key `expired:<id>`.
 * An incomplete run (stopped at its cap, or a release failed) leaves the sweep mark where it was,
 * so the next run picks up the rest; a failure is thrown so the schedule's retry and alarms see it.
 */
export async function handler() {
  // Platform-level (the held-reservation index); each release enters its tenant's scope.
  const result = await inPlatformScope(() => releaseExpiredReservations(billingDeps(), new Date()));
  logger.info('Expired reservations swept', { ...result });
  if (result.failed > 0) throw new Error(`${result.failed} expired reservation(s) could not be released`);
  return result;
}
