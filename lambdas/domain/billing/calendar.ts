/**
 * Billing's calendar, in UTC throughout: periods are months (`YYYY-MM`), usage is totalled by
 * day (`YYYY-MM-DD`), held reservations are indexed by the hour their hold ends (`YYYY-MM-DDTHH`).
 * All three are prefixes of an ISO timestamp, so they sort and compare as strings.
 */
export const PERIOD_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const periodOf = (at: Date): string => at.toISOString().slice(0, 7);
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);
export const hourOf = (at: Date): string => at.toISOString().slice(0, 13);
export const epochSeconds = (at: Date): number => Math.floor(at.getTime() / 1000);

/** A real calendar day (not 2026-02-30). */
export function isDay(value: string): boolean {
  if (!DAY_PATTERN.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(parsed.getTime()) && dayOf(parsed) === value;
}

export const addDays = (day: string, days: number): string =>
  dayOf(new Date(new Date(`${day}T00:00:00.000Z`).getTime() + days * DAY_MS));

/** Days from `from` to `to`, both counted (1 for the same day). */
export const daysInRange = (from: string, to: string): number =>
  Math.round(
    (new Date(`${to}T00:00:00.000Z`).getTime() - new Date(`${from}T00:00:00.000Z`).getTime()) / DAY_MS,
  ) + 1;

export const nextHour = (hour: string): string =>
  hourOf(new Date(new Date(`${hour}:00:00.000Z`).getTime() + HOUR_MS));

export const hoursBefore = (at: Date, hours: number): string =>
  hourOf(new Date(at.getTime() - hours * HOUR_MS));
