import { canManageRole, roleAllows, userMay } from './rbac';

describe('role permissions', () => {
  it('lets owners and admins do everything on the API, coordinators operate, members read', () => {
    expect(roleAllows('owner', 'users:write')).toBe(true);
    expect(roleAllows('admin', 'agents:write')).toBe(true);
    expect(roleAllows('coordinator', 'agents:operate')).toBe(true);
    expect(roleAllows('coordinator', 'agents:write')).toBe(false);
    expect(roleAllows('member', 'agents:read')).toBe(true);
    expect(roleAllows('member', 'users:read')).toBe(false);
  });

  it('lets only owners manage owners', () => {
    expect(canManageRole('owner', 'owner')).toBe(true);
    expect(canManageRole('admin', 'owner')).toBe(false);
    expect(canManageRole('admin', 'member')).toBe(true);
    expect(canManageRole('coordinator', 'member')).toBe(false);
  });
});

describe('action permissions', () => {
  const downtown = 'loc_A';
  const uptown = 'loc_B';

  it('grants role defaults everywhere', () => {
    expect(userMay({ role: 'admin', grants: [], locationIds: [] }, 'payment:process', downtown)).toBe(true);
    expect(userMay({ role: 'member', grants: [], locationIds: [] }, 'sms:send')).toBe(false);
  });

  it('honours explicit grants, limited to their locations', () => {
    const member = {
      role: 'member' as const,
      grants: [{ permission: 'sms:send' as const, locationIds: [downtown] }],
      locationIds: [],
    };
    expect(userMay(member, 'sms:send', downtown)).toBe(true);
    expect(userMay(member, 'sms:send', uptown)).toBe(false);
    // A location-limited grant does not apply to an action tied to no location.
    expect(userMay(member, 'sms:send')).toBe(false);
    expect(userMay({ ...member, grants: [{ permission: 'sms:send' }] }, 'sms:send')).toBe(true);
  });

  it('confines a user assigned to locations to those locations, whatever the grant', () => {
    const admin = { role: 'admin' as const, grants: [], locationIds: [downtown] };
    expect(userMay(admin, 'email:send', downtown)).toBe(true);
    expect(userMay(admin, 'email:send', uptown)).toBe(false);
  });
});
