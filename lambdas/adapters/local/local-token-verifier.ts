import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * Local mode's stand-in for the `$connect` authorizer's Cognito check: the local issuer's tokens,
 * verified exactly as the local gateway verifies them for the HTTP routes (issuer, audience,
 * RS256 signature against the issuer's published keys, an expiry that must be there and not passed).
 */
export function localTokenVerifier(issuer: string, audience: string) {
  const keys = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  return async (token: string): Promise<Record<string, unknown>> => {
    const { payload } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms: ['RS256'],
      requiredClaims: ['exp'],
    });
    return payload as Record<string, unknown>;
  };
}
