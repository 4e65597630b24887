import * as z from 'zod';
import { idSchema } from '../shared/ids';
import { permissionGrantSchema, roleSchema } from './rbac';

const email = z
  .email()
  .max(254)
  .transform((value) => value.toLowerCase());
const password = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(128)
  .regex(/[a-z]/, 'must contain a lower-case letter')
  .regex(/[A-Z]/, 'must contain an upper-case letter')
  .regex(/[0-9]/, 'must contain a digit');
const personName = z.string().trim().min(1).max(120);
const slug = z
  .string()
  .min(3)
  .max(48)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case letters, digits and single dashes');

export const registerTenantBody = z.strictObject({
  tenant: z.strictObject({ name: z.string().trim().min(1).max(120), slug: slug.optional() }),
  owner: z.strictObject({ email, password, name: personName }),
});
export type RegisterTenantInput = z.infer<typeof registerTenantBody>;

export const loginBody = z.strictObject({ email, password: z.string().min(1).max(128) });

export const tenantPatchBody = z.strictObject({ name: z.string().trim().min(1).max(120) });

const locationIds = z.array(idSchema('location')).max(50);

export const userCreateBody = z.strictObject({
  email,
  name: personName,
  password,
  role: roleSchema,
  grants: z.array(permissionGrantSchema).max(50).default([]),
  locationIds: locationIds.default([]),
});
export type UserCreateInput = z.infer<typeof userCreateBody>;

export const userPatchBody = z
  .strictObject({
    name: personName.optional(),
    role: roleSchema.optional(),
    grants: z.array(permissionGrantSchema).max(50).optional(),
    locationIds: locationIds.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field');
export type UserPatch = z.infer<typeof userPatchBody>;

const locationFields = {
  name: z.string().trim().min(1).max(120),
  timezone: z
    .string()
    .max(64)
    .refine(
      (tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC',
      'must be an IANA time zone',
    ),
  address: z.string().max(500),
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number'),
};

export const locationCreateBody = z.strictObject({
  name: locationFields.name,
  timezone: locationFields.timezone.default('UTC'),
  address: locationFields.address.optional(),
  phone: locationFields.phone.optional(),
});
export type LocationCreateInput = z.infer<typeof locationCreateBody>;

export const locationPatchBody = z
  .strictObject({
    name: locationFields.name.optional(),
    timezone: locationFields.timezone.optional(),
    address: locationFields.address.optional(),
    phone: locationFields.phone.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field');
export type LocationPatch = z.infer<typeof locationPatchBody>;

// Response shapes: what the API returns (also documented in the OpenAPI file).
export const tenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  status: z.enum(['active', 'suspended']),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});
export type Tenant = z.infer<typeof tenantSchema>;

export const userSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  grants: z.array(permissionGrantSchema),
  locationIds: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});
export type User = z.infer<typeof userSchema>;

export const locationSchema = z.object({
  id: z.string(),
  tenantId: z.string(),
  name: z.string(),
  timezone: z.string(),
  address: z.string().optional(),
  phone: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});
export type Location = z.infer<typeof locationSchema>;

export const authTokenSchema = z.object({
  token: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
export type AuthToken = z.infer<typeof authTokenSchema>;
