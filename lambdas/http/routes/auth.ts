import * as z from 'zod/mini';
import { lazySchema } from '../../domain/shared/zod';
import {
  authTokenResponse,
  loginBody,
  registerTenantBody,
  tenantResponse,
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
    summary: 'Exchange email and password for a bearer token',
    body: loginBody,
    status: 200,
    response: authTokenResponse,
    errors: { 401: 'Wrong email or password' },
  },
} as const satisfies RouteGroup<'auth'>;
