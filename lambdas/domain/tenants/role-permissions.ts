/**
 * The roles and the API permissions (route permissions) each holds. No run-time imports: the
 * console reads the same table to offer only what a user's role may use.
 */
export const ROLES = ['owner', 'admin', 'coordinator', 'member'] as const;
export type Role = (typeof ROLES)[number];

export const API_PERMISSIONS = [
  'tenant:read',
  'tenant:write',
  'users:read',
  'users:write',
  'locations:read',
  'locations:write',
  'agents:read',
  'agents:write',
  'agents:operate',
  'agents:run',
  'conversations:read',
  'conversations:write',
  'billing:read',
  'billing:write',
  'actions:read',
  'policies:read',
  'policies:write',
  'approvals:read',
  'approvals:decide',
  'audit:read',
] as const;
export type ApiPermission = (typeof API_PERMISSIONS)[number];

const ROLE_API_PERMISSIONS: Record<Role, ReadonlySet<ApiPermission>> = {
  owner: new Set(API_PERMISSIONS),
  admin: new Set(API_PERMISSIONS),
  coordinator: new Set([
    'tenant:read',
    'users:read',
    'locations:read',
    'agents:read',
    'agents:operate',
    'agents:run',
    'conversations:read',
    'conversations:write',
    // Coordinators watch the balance and usage (they run the agents that spend it) but do not buy.
    'billing:read',
    // They are the people approvals wait for: they see what agents do and decide, under the policy.
    'actions:read',
    'policies:read',
    'approvals:read',
    'approvals:decide',
  ]),
  member: new Set(['tenant:read', 'locations:read', 'agents:read', 'agents:run', 'conversations:read']),
};

export function roleAllows(role: Role, permission: ApiPermission): boolean {
  return ROLE_API_PERMISSIONS[role].has(permission);
}
