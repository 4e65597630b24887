import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { EDGE_HEADERS } from './edge-headers';
import { headerOf } from './request';

/** The origin-verify secret as CloudFront sends it: read on first need, then kept (see the adapter). */
export type OriginVerifySecret = () => Promise<string>;

/** The caller's address as the API resolves it (see `callerAddressResolver`). */
export type CallerAddress = (event: APIGatewayProxyEventV2WithJWTAuthorizer) => Promise<string>;

const ADDRESS_CHARACTERS = /^[0-9A-Fa-f:.]+$/;

function port(text: string | undefined): boolean {
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 && value <= 65_535;
}

/**
 * The address in a viewer-address header: a bare IPv4 or IPv6 address (what the distribution's
 * function writes), or `1.2.3.4:port` / `[v6]:port` (socket-address forms, accepted with the port
 * dropped). Anything else — a list, a zone id, a host name, an unbracketed IPv6 with a port, which
 * cannot be told from a bare address — is undefined.
 */
export function parseViewerAddress(value: string | undefined): string | undefined {
  const text = value?.trim() ?? '';
  if (text.length === 0 || text.length > 64) return undefined;
  if (ADDRESS_CHARACTERS.test(text) && isIP(text) !== 0) return text;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text);
  if (bracketed?.[1] && isIP(bracketed[1]) === 6 && port(bracketed[2])) return bracketed[1];
  const v4 = /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (v4?.[1] && isIP(v4[1]) === 4 && port(v4[2])) return v4[1];
  return undefined;
}

/** Constant-time whatever the lengths: both sides are hashed to 32 bytes first. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The caller's address, for Cognito threat protection at sign-in. API Gateway's `sourceIp` is the
 * address that connected to it: behind the console's CloudFront distribution, an edge server's.
 * So a request that proves it came through OUR distribution — the origin-verify header equal to
 * the secret the distribution sends — is taken to come from the viewer-address header's address,
 * which the distribution's viewer-request function writes over anything the viewer sent.
 * Everything else keeps `sourceIp`: no secret configured (local mode, no console), no or a wrong
 * proof (someone calling the execute-api URL directly), a missing or malformed address, or the
 * secret unreadable (`onSecretError` hears of it). Never throws.
 *
 * The secret is read only when a request carries both headers, so no other request (and no
 * cold start) waits for Secrets Manager.
 */
export function callerAddressResolver(
  secret: OriginVerifySecret | undefined,
  onSecretError: (error: unknown) => void = () => {},
): CallerAddress {
  return async (event) => {
    const sourceIp = event.requestContext.http.sourceIp;
    if (!secret) return sourceIp;
    const proof = headerOf(event, EDGE_HEADERS.ORIGIN_VERIFY);
    if (!proof) return sourceIp;
    const viewer = parseViewerAddress(headerOf(event, EDGE_HEADERS.VIEWER_ADDRESS));
    if (!viewer) return sourceIp;
    let expected: string;
    try {
      expected = await secret();
    } catch (error) {
      onSecretError(error);
      return sourceIp;
    }
    return sameSecret(proof, expected) ? viewer : sourceIp;
  };
}
