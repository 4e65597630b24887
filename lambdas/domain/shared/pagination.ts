import * as z from 'zod/mini';
import { integer, lazySchema } from './zod';

export interface Page<T> {
  readonly items: T[];
  /** Opaque; pass back as `cursor` to read the next page. Absent on the last page. */
  readonly nextCursor?: string;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

export const pageQueryFields = () => ({
  limit: z._default(integer(1, 100, { coerce: true }), 25),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});

export const pageQuerySchema = lazySchema(() => z.strictObject(pageQueryFields()));
