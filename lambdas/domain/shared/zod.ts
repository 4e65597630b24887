/**
 * Schemas are written with `zod/mini`: the same validation as classic zod, but schemas are
 * cheaper to construct and the bundle is smaller, which is most of a Lambda's cold start
 * beyond the AWS SDK (see `npm run bench`). Importing this module configures zod once.
 */

import { en } from 'zod/locales';
import * as z from 'zod/mini';

z.config(en());
// No generated fast path (`new Function`) per object schema: an instance parses each schema only a
// few times, and generating the code costs more at cold start than it saves afterwards.
z.config({ jitless: true });

/** A value built on first use and kept. */
export function lazyValue<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

/**
 * A schema built on first use. Route schemas are lazy so that a Lambda serving one route never
 * builds the schemas of the others it hosts, and response shapes are built for the OpenAPI
 * document only.
 */
export const lazySchema = <T extends z.ZodMiniType>(build: () => T): (() => T) => lazyValue(build);

/** An instant the server wrote (`toISOString()`), documented as `date-time`; responses only. */
export const instant = () => z.string().check(z.meta({ format: 'date-time' }));

/** Trimmed string of bounded length. */
export const text = (min: number, max: number) =>
  z.string().check(z.trim(), z.minLength(min), z.maxLength(max));

/** String of bounded length, kept as sent. */
export const rawText = (max: number) => z.string().check(z.maxLength(max));

export const e164Phone = () =>
  z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number'));

/**
 * Integer in [min, max]; `coerce` for query strings and path parameters. Both are documented as
 * `type: integer` (the int check, not a refinement, is what tells the OpenAPI document).
 */
export const integer = (min: number, max: number, options: { coerce?: boolean } = {}) =>
  options.coerce
    ? z.coerce.number().check(z.int('must be an integer'), z.gte(min), z.lte(max))
    : z.int().check(z.gte(min), z.lte(max));

/**
 * No two items alike (`key` picks what must differ), and documented as `uniqueItems` when the
 * items themselves must differ. Spread into `.check(...)`.
 */
export const unique = <T>(message: string, key?: (item: T) => unknown) =>
  key
    ? [z.refine<T[]>((items) => new Set(items.map(key)).size === items.length, message)]
    : [
        z.refine<T[]>((items) => new Set(items).size === items.length, message),
        z.meta({ uniqueItems: true }),
      ];

export const boundedArray = <T extends z.ZodMiniType>(item: T, max: number, min = 0) =>
  z.array(item).check(z.minLength(min), z.maxLength(max));
