import { CognitoJwtVerifier } from 'aws-jwt-verify';

/**
 * Verifies a Cognito ID token (signature against the pool's JWKS, issuer, audience = the app
 * client, `token_use` = id, expiry) as the HTTP API's JWT authorizer does for the REST routes;
 * WebSocket APIs have no JWT authorizer, so the `$connect` Lambda authorizer does it with this.
 * The JWKS is fetched once per Lambda instance and cached by the library.
 */
export function cognitoIdTokenVerifier(userPoolId: string, clientId: string) {
  const verifier = CognitoJwtVerifier.create({ userPoolId, tokenUse: 'id', clientId });
  return async (token: string): Promise<Record<string, unknown>> =>
    (await verifier.verify(token)) as unknown as Record<string, unknown>;
}
