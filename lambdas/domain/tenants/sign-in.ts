import { UnauthorizedError } from '../shared/errors';
import type { ChallengeAnswer, IdentityProvider, SignInContext } from './ports';
import type { AuthToken, SignInChallenge, SignInStep, TotpEnrolment } from './schemas';

export interface SignInDeps {
  readonly identity: IdentityProvider;
}

/** The name authenticator apps show above the code. */
export const TOTP_ISSUER = 'Agent Platform';

export function isChallenge(step: SignInStep): step is SignInChallenge {
  return 'challenge' in step;
}

/** For callers that cannot take a further step (e.g. registration: a new owner has no MFA yet). */
export function tokenOf(step: SignInStep): AuthToken {
  if (isChallenge(step)) throw new UnauthorizedError(`sign-in needs a further step: ${step.challenge}`);
  return step;
}

/** Email and password: a token, or the challenge the user must answer next. */
export function signIn(
  deps: SignInDeps,
  input: { email: string; password: string },
  context: SignInContext,
): Promise<SignInStep> {
  return deps.identity.authenticate(input.email, input.password, context);
}

/** The answer to a sign-in challenge (an authenticator code, or a new password). */
export function answerChallenge(
  deps: SignInDeps,
  answer: ChallengeAnswer,
  context: SignInContext,
): Promise<SignInStep> {
  return deps.identity.respondToChallenge(answer, context);
}

export function beginTotpEnrolment(
  deps: SignInDeps,
  input: { email: string; password: string },
  context: SignInContext,
): Promise<TotpEnrolment> {
  return deps.identity.beginTotpEnrolment(input.email, input.password, context);
}

export function confirmTotpEnrolment(
  deps: SignInDeps,
  input: { email: string; password: string; code: string },
  context: SignInContext,
): Promise<void> {
  return deps.identity.confirmTotpEnrolment(input.email, input.password, input.code, context);
}

/** The key-URI format authenticator apps read from a QR code (Google Authenticator's spec). */
export function otpauthUri(email: string, secretBase32: string): string {
  const label = encodeURIComponent(`${TOTP_ISSUER}:${email}`);
  const query = new URLSearchParams({
    secret: secretBase32,
    issuer: TOTP_ISSUER,
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
