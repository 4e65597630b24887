import { authHttpDeps, callerAddress, authDeps as deps } from '../../composition/auth';
import { registerTenant } from '../../domain/tenants/registration';
import {
  answerChallenge,
  beginTotpEnrolment,
  confirmTotpEnrolment,
  signIn,
} from '../../domain/tenants/sign-in';
import { createHttpHandler } from '../../http/http-handler';
import { signInContextFrom } from '../../http/request';
import { AUTH_ROUTES } from '../../http/routes/auth';

export const handler = createHttpHandler(
  AUTH_ROUTES,
  {
    'POST /v1/auth/register': async ({ body, event }) => {
      const { tenant, owner, auth } = await registerTenant(
        deps,
        body,
        signInContextFrom(event, undefined, await callerAddress(event)),
      );
      return { body: { tenant, user: owner, auth } };
    },
    'POST /v1/auth/login': async ({ body, event }) => ({
      body: await signIn(
        deps,
        body,
        signInContextFrom(event, body.userContextData, await callerAddress(event)),
      ),
    }),
    'POST /v1/auth/login/challenge': async ({ body, event }) => ({
      body: await answerChallenge(
        deps,
        body,
        signInContextFrom(event, body.userContextData, await callerAddress(event)),
      ),
    }),
    'POST /v1/auth/mfa/totp': async ({ body, event }) => ({
      body: await beginTotpEnrolment(
        deps,
        body,
        signInContextFrom(event, body.userContextData, await callerAddress(event)),
      ),
    }),
    'POST /v1/auth/mfa/totp/verify': async ({ body, event }) => {
      await confirmTotpEnrolment(
        deps,
        body,
        signInContextFrom(event, body.userContextData, await callerAddress(event)),
      );
      return {};
    },
  },
  authHttpDeps,
);
