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

// ── What the table can store ─────────────────────────────────────────────────────────────────
//
// Every number and free-form JSON value a request can carry into storage passes these checks, so
// that what the table (DynamoDB, through the document client) cannot hold is a 400 naming the
// field instead of a failed write:
//  - numbers: the document client refuses integers beyond ±(2^53 − 1) (it would lose digits), and
//    DynamoDB refuses magnitudes below 1e-130 (other than 0). Every JavaScript number within those
//    bounds has at most 17 significant digits, well inside DynamoDB's 38. `1e400` is already
//    Infinity after JSON.parse and fails as "not a number".
//  - map keys: DynamoDB refuses empty attribute names; `__proto__` cannot be copied into a plain
//    object without replacing its prototype (zod drops it silently, the document client fails on
//    what is left), so it is refused rather than lost.
//  - nesting: DynamoDB allows 32 levels; free-form values get half of that, because they are
//    stored inside an item's own maps (an execution's input, a record's data).

export const STORABLE_NUMBER_MAX = Number.MAX_SAFE_INTEGER;
export const STORABLE_NUMBER_MIN_MAGNITUDE = 1e-130;
export const STORABLE_JSON_MAX_DEPTH = 16;
export const STORABLE_KEY_MAX_CHARS = 100;

const NUMBER_RULE = `must be 0 or between ${STORABLE_NUMBER_MIN_MAGNITUDE} and ${STORABLE_NUMBER_MAX} in magnitude`;

/** Whether the table can store `value` as a number exactly. */
export function isStorableNumber(value: number): boolean {
  const magnitude = Math.abs(value);
  return (
    Number.isFinite(value) &&
    magnitude <= STORABLE_NUMBER_MAX &&
    (magnitude === 0 || magnitude >= STORABLE_NUMBER_MIN_MAGNITUDE)
  );
}

/** A number the table can store; add range checks with `.check(...)`. Use instead of `z.number()` in every input. */
export const storableNumber = () => z.number().check(z.refine(isStorableNumber, NUMBER_RULE));

export interface JsonProblem {
  /** Path inside the value, e.g. `['items', 3, 'price']`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Everything in a JSON value the table cannot store, each with its path (at most `limit`
 * problems). `depth` is the nesting level of `value` itself (a top-level object is 1).
 */
export function storableJsonProblems(value: unknown, depth = 1, limit = 10): JsonProblem[] {
  const problems: JsonProblem[] = [];
  const visit = (node: unknown, level: number, path: (string | number)[]): void => {
    if (problems.length >= limit) return;
    if (node === null || typeof node === 'string' || typeof node === 'boolean') return;
    if (typeof node === 'number') {
      if (!isStorableNumber(node)) problems.push({ path, message: NUMBER_RULE });
      return;
    }
    const isArray = Array.isArray(node);
    if (!isArray && !isJsonObject(node)) {
      problems.push({ path, message: 'must be JSON: an object, array, string, number, boolean or null' });
      return;
    }
    if (level > STORABLE_JSON_MAX_DEPTH) {
      problems.push({
        path,
        message: `nests deeper than ${STORABLE_JSON_MAX_DEPTH} levels of objects and arrays`,
      });
      return;
    }
    if (isArray) {
      for (const [index, item] of node.entries()) visit(item, level + 1, [...path, index]);
      return;
    }
    for (const key of Object.keys(node)) {
      if (key === '') problems.push({ path: [...path, key], message: 'an object key must not be empty' });
      else if (key === '__proto__')
        problems.push({ path: [...path, key], message: 'the key __proto__ is not allowed' });
      else if (key.length > STORABLE_KEY_MAX_CHARS)
        problems.push({
          path,
          message: `an object key must be at most ${STORABLE_KEY_MAX_CHARS} characters`,
        });
      else visit(node[key], level + 1, [...path, key]);
      if (problems.length >= limit) return;
    }
  };
  visit(value, depth, []);
  return problems;
}

const reportJsonProblems = (depth: number) =>
  z.superRefine<unknown>((value, ctx) => {
    for (const problem of storableJsonProblems(value, depth)) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: [...problem.path], input: value });
    }
  });

/**
 * Any JSON value the table can store: THE schema for free-form input (turn context, resource
 * records, metadata). The value passes through as sent (no copy), so nothing is dropped unseen.
 */
export const storableJson = () => z.unknown().check(reportJsonProblems(1));

/**
 * A JSON object the table can store (free-form fields that must be objects), optionally bounded
 * in size as JSON. Documented in OpenAPI as an object with any properties.
 */
export function storableRecord(options: { maxChars?: number } = {}) {
  const { maxChars } = options;
  // `z.unknown()` rather than `z.record()`: a record copies the object and silently drops a
  // `__proto__` key before any check could see it. The object is passed on as sent.
  const schema = z.unknown().check(
    z.superRefine((value, ctx) => {
      if (!isJsonObject(value)) {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object', input: value });
        return;
      }
      for (const problem of storableJsonProblems(value)) {
        ctx.addIssue({ code: 'custom', message: problem.message, path: [...problem.path], input: value });
      }
      if (maxChars !== undefined && JSON.stringify(value).length > maxChars) {
        ctx.addIssue({
          code: 'custom',
          message: `must be at most ${maxChars} characters as JSON`,
          input: value,
        });
      }
    }),
  );
  z.globalRegistry.add(schema, {
    type: 'object',
    // Kept to what every model provider's tool-schema dialect accepts (no `not`): `__proto__` is
    // refused by the check, and said so in the 400 or the tool error.
    propertyNames: { type: 'string', minLength: 1, maxLength: STORABLE_KEY_MAX_CHARS },
    additionalProperties: {},
  } as Record<string, unknown>);
  return schema as unknown as z.ZodMiniType<Record<string, unknown>, Record<string, unknown>>;
}

/**
 * `value` made storable, for JSON the platform must record but did not validate (a model's tool
 * input, say, kept beside the refusal it earned): numbers out of range become their text, keys the
 * table refuses are renamed `(empty)` and `(__proto__)`, and what nests too deep is kept as JSON
 * text. Storable values come back unchanged (the same object).
 */
export function toStorableJson(value: unknown, depth = 1): unknown {
  if (storableJsonProblems(value, depth, 1).length === 0) return value;
  if (typeof value === 'number') return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > STORABLE_JSON_MAX_DEPTH || (!Array.isArray(value) && !isJsonObject(value))) {
    return JSON.stringify(value) ?? String(value);
  }
  if (Array.isArray(value)) return value.map((item) => toStorableJson(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const name =
      key === '' ? '(empty)' : key === '__proto__' ? '(__proto__)' : key.slice(0, STORABLE_KEY_MAX_CHARS);
    copy[name] = toStorableJson((value as Record<string, unknown>)[key], depth + 1);
  }
  return copy;
}
