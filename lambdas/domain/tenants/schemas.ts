import * as z from 'zod/mini';
import { idSchema } from '../shared/ids';
import { boundedArray, e164Phone, instant, lazySchema, text } from '../shared/zod';
import { permissionGrantSchema, roleSchema } from './rbac';

const email = () => z.email().check(z.maxLength(254), z.toLowerCase());
const password = () =>
  z
    .string()
    .check(
      z.minLength(12, 'must be at least 12 characters'),
      z.maxLength(128),
      z.regex(/[a-z]/, 'must contain a lower-case letter'),
      z.regex(/[A-Z]/, 'must contain an upper-case letter'),
      z.regex(/[0-9]/, 'must contain a digit'),
    );
const personName = () => text(1, 120);
const slug = () =>
  z
    .string()
    .check(
      z.minLength(3),
      z.maxLength(48),
      z.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case letters, digits and single dashes'),
    );
const atLeastOneField = <T extends object>() =>
  z.refine<T>((patch) => Object.keys(patch).length > 0, 'must change at least one field');

export const registerTenantBody = lazySchema(() =>
  z.strictObject({
    tenant: z.strictObject({ name: text(1, 120), slug: z.optional(slug()) }),
    owner: z.strictObject({ email: email(), password: password(), name: personName() }),
  }),
);
export type RegisterTenantInput = z.infer<ReturnType<typeof registerTenantBody>>;

/**
 * What the Amazon Cognito advanced-security script (`AmazonCognitoAdvancedSecurityData.getData`)
 * collected in the user's browser, passed on to threat protection as `EncodedData`.
 */
const userContextData = () =>
  z.optional(
    z.string().check(
      z.minLength(1),
      z.maxLength(8192),
      z.meta({
        description: 'Device fingerprint from the Cognito advanced-security script, if the client runs it',
      }),
    ),
  );

export const loginBody = lazySchema(() =>
  z.strictObject({
    email: email(),
    password: z.string().check(z.minLength(1), z.maxLength(128)),
    userContextData: userContextData(),
  }),
);

/** The further steps a sign-in can ask for; the pool offers TOTP, never SMS, but a client must handle every one. */
export const SIGN_IN_CHALLENGES = ['SOFTWARE_TOKEN_MFA', 'SMS_MFA', 'NEW_PASSWORD_REQUIRED'] as const;
export type SignInChallengeName = (typeof SIGN_IN_CHALLENGES)[number];

const oneTimeCode = () => z.string().check(z.regex(/^\d{6}$/, 'must be the 6-digit code'));
/** Opaque, short-lived (Cognito: 3 minutes), single use. */
const challengeSession = () => z.string().check(z.minLength(20), z.maxLength(4096));

export const challengeAnswerBody = lazySchema(() =>
  z
    .strictObject({
      email: email(),
      challenge: z.enum(SIGN_IN_CHALLENGES),
      session: challengeSession(),
      code: z.optional(oneTimeCode()),
      newPassword: z.optional(password()),
      userContextData: userContextData(),
    })
    .check(
      z.superRefine((answer, ctx) => {
        const needed = answer.challenge === 'NEW_PASSWORD_REQUIRED' ? 'newPassword' : 'code';
        if (answer[needed] === undefined) {
          ctx.issues.push({
            code: 'custom',
            input: answer,
            path: [needed],
            message: `is required to answer ${answer.challenge}`,
          });
        }
      }),
    ),
);
export type ChallengeAnswerInput = z.infer<ReturnType<typeof challengeAnswerBody>>;

export const totpEnrolmentBody = lazySchema(() =>
  z.strictObject({
    email: email(),
    password: z.string().check(z.minLength(1), z.maxLength(128)),
    userContextData: userContextData(),
  }),
);

export const totpConfirmationBody = lazySchema(() =>
  z.strictObject({
    email: email(),
    password: z.string().check(z.minLength(1), z.maxLength(128)),
    code: oneTimeCode(),
    userContextData: userContextData(),
  }),
);

/** Turning one's own TOTP off: the password (step-up, as for enrolment) and a current code. */
export const totpDisableBody = lazySchema(() =>
  z.strictObject({
    password: z.string().check(z.minLength(1), z.maxLength(128)),
    code: oneTimeCode(),
    userContextData: userContextData(),
  }),
);

export const tenantPatchBody = lazySchema(() => z.strictObject({ name: text(1, 120) }));

const locationIds = () => boundedArray(idSchema('location'), 50);
const grants = () => boundedArray(permissionGrantSchema(), 50);

export const userCreateBody = lazySchema(() =>
  z.strictObject({
    email: email(),
    name: personName(),
    password: password(),
    role: roleSchema(),
    grants: z._default(grants(), []),
    locationIds: z._default(locationIds(), []),
  }),
);
export type UserCreateInput = z.infer<ReturnType<typeof userCreateBody>>;

/** A disabled user keeps their record but can neither sign in nor use a token they already hold. */
export const USER_STATUSES = ['active', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
const userStatus = () => z.enum(USER_STATUSES);

export const userPatchBody = lazySchema(() =>
  z
    .strictObject({
      name: z.optional(personName()),
      role: z.optional(roleSchema()),
      status: z.optional(userStatus()),
      grants: z.optional(grants()),
      locationIds: z.optional(locationIds()),
    })
    .check(atLeastOneField()),
);
export type UserPatch = z.infer<ReturnType<typeof userPatchBody>>;

const TIME_ZONE_DOCUMENTATION = {
  description: 'An IANA time zone name, e.g. Europe/Paris, or UTC',
  examples: ['Europe/Paris', 'UTC'],
};
const timezone = () =>
  z.string().check(
    z.maxLength(64),
    z.refine(
      (tz) => tz === 'UTC' || Intl.supportedValuesOf('timeZone').includes(tz),
      'must be an IANA time zone',
    ),
    z.meta(TIME_ZONE_DOCUMENTATION),
  );
const address = () => z.string().check(z.maxLength(500));

export const locationCreateBody = lazySchema(() =>
  z.strictObject({
    name: text(1, 120),
    timezone: z._default(timezone(), 'UTC'),
    address: z.optional(address()),
    phone: z.optional(e164Phone()),
  }),
);
export type LocationCreateInput = z.infer<ReturnType<typeof locationCreateBody>>;

export const locationPatchBody = lazySchema(() =>
  z
    .strictObject({
      name: z.optional(text(1, 120)),
      timezone: z.optional(timezone()),
      address: z.optional(address()),
      phone: z.optional(e164Phone()),
    })
    .check(atLeastOneField()),
);
export type LocationPatch = z.infer<ReturnType<typeof locationPatchBody>>;

// Response shapes: built only when the OpenAPI document is (the types are what the code uses).
const entityFields = () => ({ createdAt: instant(), updatedAt: instant(), version: z.int() });

export const tenantResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    status: z.enum(['active', 'suspended']),
    ...entityFields(),
  }),
);
export type Tenant = z.infer<ReturnType<typeof tenantResponse>>;

export const userResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    email: z.string(),
    name: z.string(),
    role: roleSchema(),
    status: userStatus(),
    grants: z.array(permissionGrantSchema()),
    locationIds: z.array(z.string()),
    ...entityFields(),
  }),
);
export type User = z.infer<ReturnType<typeof userResponse>>;

/** The calling user (GET /v1/me), with what only they need: whether sign-in asks for a code. */
export const meResponse = lazySchema(() =>
  z.extend(userResponse(), {
    mfa: z.object({
      totp: z
        .boolean()
        .check(z.meta({ description: 'Sign-in asks for a code from an authenticator app (TOTP)' })),
    }),
  }),
);

export const locationResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    timezone: z.string().check(z.meta(TIME_ZONE_DOCUMENTATION)),
    address: z.optional(z.string()),
    phone: z.optional(z.string()),
    ...entityFields(),
  }),
);
export type Location = z.infer<ReturnType<typeof locationResponse>>;

export const authTokenResponse = lazySchema(() =>
  z.object({ token: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.int() }),
);
export type AuthToken = z.infer<ReturnType<typeof authTokenResponse>>;

export const signInChallengeResponse = lazySchema(() =>
  z.object({
    challenge: z.enum(SIGN_IN_CHALLENGES),
    session: z.string().check(
      z.meta({
        description: 'Send back with the answer to POST /v1/auth/login/challenge; expires in minutes',
      }),
    ),
  }),
);
export type SignInChallenge = z.infer<ReturnType<typeof signInChallengeResponse>>;

/** A sign-in either ends with a token or asks for one more step. */
export const signInResponse = lazySchema(() => z.union([authTokenResponse(), signInChallengeResponse()]));
export type SignInStep = AuthToken | SignInChallenge;

export const totpEnrolmentResponse = lazySchema(() =>
  z.object({
    secretCode: z
      .string()
      .check(z.meta({ description: 'Base32 TOTP secret, for authenticators without a camera' })),
    otpauthUri: z.string().check(z.meta({ description: 'otpauth://totp/… URI, to show as a QR code' })),
  }),
);
export type TotpEnrolment = z.infer<ReturnType<typeof totpEnrolmentResponse>>;
