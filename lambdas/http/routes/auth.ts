import * as z from 'zod/mini';
import { lazySchema } from '../../domain/shared/zod';
import {
  authTokenResponse,
  challengeAnswerBody,
  loginBody,
  registerTenantBody,
  signInResponse,
  tenantResponse,
  totpConfirmationBody,
  totpEnrolmentBody,
  totpEnrolmentResponse,
  userResponse,
} from '../../domain/tenants/schemas';
import type { RouteGroup } from '../route-spec';

export const AUTH_ROUTES = {
  'POST /v1/auth/register': {
    lambda: 'auth',
    permission: 'public',
    summary: 'Register a tenant and its owner; returns a token for the owner',
    body: registerTenantBody,
    status: 201,
    response: lazySchema(() =>
      z.object({ tenant: tenantResponse(), user: userResponse(), auth: authTokenResponse() }),
    ),
    errors: { 409: 'The slug or the email is already taken' },
  },
  'POST /v1/auth/login': {
    lambda: 'auth',
    permission: 'public',
    summary:
      'Exchange email and password for a bearer token, or for a challenge (e.g. SOFTWARE_TOKEN_MFA) to answer at POST /v1/auth/login/challenge',
    body: loginBody,
    status: 200,
    response: signInResponse,
    errors: { 401: 'Wrong email or password, or the user is disabled' },
  },
  'POST /v1/auth/login/challenge': {
    lambda: 'auth',
    permission: 'public',
    summary:
      'Answer a sign-in challenge (the authenticator code, or a new password) with the session login returned; a session answers once',
    body: challengeAnswerBody,
    status: 200,
    response: signInResponse,
    errors: { 401: 'Wrong or used code, or the session expired, was used or is unknown: sign in again' },
  },
  'POST /v1/auth/mfa/totp': {
    lambda: 'auth',
    permission: 'public',
    summary:
      'Start enrolling a TOTP authenticator: the password again (step-up), then a secret to scan; pending until confirmed',
    body: totpEnrolmentBody,
    status: 200,
    response: totpEnrolmentResponse,
    errors: {
      401: 'Wrong email or password, or the user is disabled',
      409: 'TOTP MFA is already enabled for the user, or this environment offers no MFA',
    },
  },
  'POST /v1/auth/mfa/totp/verify': {
    lambda: 'auth',
    permission: 'public',
    summary:
      'Confirm the TOTP enrolment with a code from the authenticator; from then on, login asks for a code',
    body: totpConfirmationBody,
    status: 204,
    errors: {
      401: 'Wrong email or password, or the user is disabled',
      409: 'No enrolment is pending, TOTP MFA is already enabled, or this environment offers no MFA',
    },
  },
} as const satisfies RouteGroup<'auth'>;
