import { callerAddress, tenancyDeps as deps, tenancyHttpDeps } from '../../composition/tenancy';
import {
  createLocation,
  deleteLocation,
  getLocation,
  listLocations,
  updateLocation,
} from '../../domain/tenants/locations';
import { resetUserMfa, turnOffOwnTotp } from '../../domain/tenants/mfa';
import { getOwnTenant, renameTenant } from '../../domain/tenants/tenant';
import { createUser, deleteUser, getUser, listUsers, updateUser } from '../../domain/tenants/users';
import { createHttpHandler, etag } from '../../http/http-handler';
import { signInContextFrom } from '../../http/request';
import { TENANCY_ROUTES } from '../../http/routes/tenancy';

const mfaDeps = { ...deps, audit: tenancyHttpDeps.audit };

const withEtag = <T extends { version: number }>(entity: T) => ({ body: entity, headers: etag(entity) });

export const handler = createHttpHandler(
  TENANCY_ROUTES,
  {
    'GET /v1/me': async ({ principal }) => {
      const me = await getUser(deps, principal, principal.userId);
      return withEtag({ ...me, mfa: { totp: await deps.identity.totpEnabled(me.email) } });
    },
    'GET /v1/tenant': async ({ principal }) => withEtag(await getOwnTenant(deps, principal)),
    'PATCH /v1/tenant': async ({ principal, body, expectedVersion }) =>
      withEtag(await renameTenant(deps, principal, body.name, expectedVersion)),
    'GET /v1/users': async ({ principal, query }) => ({ body: await listUsers(deps, principal, query) }),
    'POST /v1/users': async ({ principal, body }) => withEtag(await createUser(deps, principal, body)),
    'GET /v1/users/{id}': async ({ principal, params }) =>
      withEtag(await getUser(deps, principal, params.id)),
    'PATCH /v1/users/{id}': async ({ principal, params, body, expectedVersion }) =>
      withEtag(await updateUser(deps, principal, params.id, body, expectedVersion)),
    'DELETE /v1/users/{id}': async ({ principal, params }) => {
      await deleteUser(deps, principal, params.id);
      return {};
    },
    'POST /v1/users/{id}/mfa/reset': async ({ principal, params }) => {
      await resetUserMfa(mfaDeps, principal, params.id);
      return {};
    },
    'DELETE /v1/auth/mfa/totp': async ({ principal, body, event }) => {
      await turnOffOwnTotp(
        mfaDeps,
        principal,
        body,
        signInContextFrom(event, body.userContextData, await callerAddress(event)),
      );
      return {};
    },
    'GET /v1/locations': async ({ principal, query }) => ({
      body: await listLocations(deps, principal, query),
    }),
    'POST /v1/locations': async ({ principal, body }) =>
      withEtag(await createLocation(deps, principal, body)),
    'GET /v1/locations/{id}': async ({ principal, params }) =>
      withEtag(await getLocation(deps, principal, params.id)),
    'PATCH /v1/locations/{id}': async ({ principal, params, body, expectedVersion }) =>
      withEtag(await updateLocation(deps, principal, params.id, body, expectedVersion)),
    'DELETE /v1/locations/{id}': async ({ principal, params }) => {
      await deleteLocation(deps, principal, params.id);
      return {};
    },
  },
  tenancyHttpDeps,
);
