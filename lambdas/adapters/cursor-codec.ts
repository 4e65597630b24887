import { createHmac, timingSafeEqual } from 'node:crypto';
import { type CursorKeyConfig, loadCursorKeyConfig } from '../composition/environment';
import { ValidationError } from '../domain/shared/errors';

/**
 * THE cursor codec: every listing's `nextCursor` is made and read here. A cursor is the listing's
 * position (a DynamoDB key, a sequence number) as base64url JSON, followed by an HMAC-SHA256 of
 * the listing it belongs to and that position, under a per-environment key:
 *
 *     <base64url(JSON(position))>.<base64url(HMAC(key, "c1\n" + listing + "\n" + payload))>
 *
 * `listing` names the tenant, the listing and every filter and order that shapes it, so a cursor
 * is accepted only by the listing that issued it: a cursor that is tampered with, truncated, made
 * up, or taken from another listing or tenant is a 400 naming `query.cursor`, and never reaches
 * DynamoDB as a start key it would reject (or, worse, accept).
 */

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const invalidCursor = () =>
  ValidationError.forField('query.cursor', 'is not a cursor returned by this listing');

let cachedKey: Promise<Buffer> | undefined;

async function resolveKey(config: CursorKeyConfig): Promise<Buffer> {
  if ('key' in config) return Buffer.from(config.key, 'utf8');
  // Required on first use only: the client is left to the Lambda runtime (lib/bundling.ts).
  const { GetSecretValueCommand } =
    require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  const { secretsManagerClient } =
    require('./secrets/secrets-manager-credentials') as typeof import('./secrets/secrets-manager-credentials');
  const output = await secretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: config.secretArn }),
  );
  if (!output.SecretString || output.SecretString.length < 32) {
    throw new Error('The cursor signing key secret is empty or shorter than 32 characters');
  }
  return Buffer.from(output.SecretString, 'utf8');
}

/** The signing key, read once per process (a failed read is retried on the next call). */
export function cursorSigningKey(): Promise<Buffer> {
  if (!cachedKey) {
    cachedKey = resolveKey(loadCursorKeyConfig());
    cachedKey.catch(() => {
      cachedKey = undefined;
    });
  }
  return cachedKey;
}

/** Tests only: forget the key, so that the next call reads the configuration again. */
export function forgetCursorSigningKey(): void {
  cachedKey = undefined;
}

function mac(key: Buffer, listing: string, payload: string): Buffer {
  return createHmac('sha256', key).update(`c1\n${listing}\n${payload}`).digest();
}

/** The cursor for `position` in `listing`, signed with `key` (see the module comment). */
export function signCursor(key: Buffer, listing: string, position: unknown): string {
  const payload = Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
  return `${payload}.${mac(key, listing, payload).toString('base64url')}`;
}

/**
 * The position a cursor of `listing` signed with `key` carries. Anything but such a cursor is a
 * ValidationError on `query.cursor`.
 */
export function openCursor(key: Buffer, listing: string, cursor: string): unknown {
  const dot = cursor.indexOf('.');
  const payload = cursor.slice(0, dot);
  const signature = cursor.slice(dot + 1);
  if (dot <= 0 || !BASE64URL.test(payload) || !BASE64URL.test(signature)) throw invalidCursor();
  // Compared as text: base64url has several spellings of the same bytes, and only the one this
  // codec writes is a cursor it issued.
  const given = Buffer.from(signature, 'utf8');
  const expected = Buffer.from(mac(key, listing, payload).toString('base64url'), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor();
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
}

/** `signCursor` with the environment's key: what every DynamoDB listing uses. */
export async function encodeCursor(listing: string, position: unknown): Promise<string> {
  return signCursor(await cursorSigningKey(), listing, position);
}

/** `openCursor` with the environment's key; undefined without a cursor. */
export async function decodeCursor(listing: string, cursor: string | undefined): Promise<unknown> {
  return cursor === undefined ? undefined : openCursor(await cursorSigningKey(), listing, cursor);
}
