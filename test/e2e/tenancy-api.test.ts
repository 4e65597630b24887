import { type ApiClient, PASSWORD, registerTenant, startApi, userWithRole } from '../support/api';

let api: ApiClient;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.platform.stop());

describe('registration and login', () => {
  it('registers a tenant with its owner and a working token', async () => {
    const response = await api.request('POST', '/v1/auth/register', {
      body: {
        tenant: { name: 'Bright Smiles', slug: 'bright-smiles' },
        owner: { email: 'Ada@Bright.test', password: PASSWORD, name: 'Ada' },
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.tenant).toMatchObject({
      name: 'Bright Smiles',
      slug: 'bright-smiles',
      status: 'active',
    });
    expect(response.body.user).toMatchObject({
      email: 'ada@bright.test',
      role: 'owner',
      tenantId: response.body.tenant.id,
    });
    expect(response.body.auth).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    expect(response.text).not.toContain(PASSWORD);
    const me = await api.request('GET', '/v1/me', { token: response.body.auth.token });
    expect(me.body).toMatchObject({ id: response.body.user.id, role: 'owner' });
  });

  it('refuses a taken slug or email with 409 and leaves no half-registered tenant', async () => {
    const takenSlug = await api.request('POST', '/v1/auth/register', {
      body: {
        tenant: { name: 'Copycat', slug: 'bright-smiles' },
        owner: { email: 'new@copy.test', password: PASSWORD, name: 'C' },
      },
    });
    expect(takenSlug.status).toBe(409);
    expect(takenSlug.body.error.message).toContain('slug');
    const takenEmail = await api.request('POST', '/v1/auth/register', {
      body: {
        tenant: { name: 'Other', slug: 'other-co' },
        owner: { email: 'ada@bright.test', password: PASSWORD, name: 'A' },
      },
    });
    expect(takenEmail.status).toBe(409);
    // The slug of the refused registration was released again.
    const retry = await api.request('POST', '/v1/auth/register', {
      body: {
        tenant: { name: 'Other', slug: 'other-co' },
        owner: { email: 'fresh@other.test', password: PASSWORD, name: 'O' },
      },
    });
    expect(retry.status).toBe(201);
  });

  it('logs in with the right password only, without saying which part was wrong', async () => {
    const ok = await api.request('POST', '/v1/auth/login', {
      body: { email: 'ADA@bright.test', password: PASSWORD },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.token.split('.')).toHaveLength(3);
    const wrong = await api.request('POST', '/v1/auth/login', {
      body: { email: 'ada@bright.test', password: 'Wrong-Horse-99' },
    });
    const unknown = await api.request('POST', '/v1/auth/login', {
      body: { email: 'nobody@bright.test', password: PASSWORD },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('rejects weak passwords naming the rule', async () => {
    const response = await api.request('POST', '/v1/auth/register', {
      body: { tenant: { name: 'Weak' }, owner: { email: 'weak@weak.test', password: 'short', name: 'W' } },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details.issues[0].field).toBe('body.owner.password');
  });
});

describe('tenant profile', () => {
  it('renames with optimistic concurrency', async () => {
    const { token } = await registerTenant(api);
    const renamed = await api.request('PATCH', '/v1/tenant', {
      token,
      body: { name: 'New name' },
      headers: { 'if-match': '"1"' },
    });
    expect(renamed.body).toMatchObject({ name: 'New name', version: 2 });
    const stale = await api.request('PATCH', '/v1/tenant', {
      token,
      body: { name: 'Stale' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(409);
  });
});

describe('users and roles', () => {
  let owner: Awaited<ReturnType<typeof registerTenant>>;
  beforeAll(async () => {
    owner = await registerTenant(api);
  });

  it('creates, lists, updates and deletes users; the new role applies at the next request', async () => {
    const member = await userWithRole(api, owner.token, 'member');
    const list = await api.request('GET', '/v1/users', { token: owner.token });
    expect(list.body.items.map((u: { id: string }) => u.id)).toEqual(
      expect.arrayContaining([owner.ownerId, member.userId]),
    );
    expect(list.text).not.toMatch(/password/i);

    expect((await api.request('POST', '/v1/agents', { token: member.token, body: {} })).status).toBe(403);
    const promoted = await api.request('PATCH', `/v1/users/${member.userId}`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(promoted.body).toMatchObject({ role: 'admin', status: 'active', version: 2 });
    // The token still carries the member group; the record, read per request, says admin.
    const asAdmin = await api.request('GET', '/v1/users', { token: member.token });
    expect(asAdmin.status).toBe(200);

    expect((await api.request('DELETE', `/v1/users/${member.userId}`, { token: owner.token })).status).toBe(
      204,
    );
    expect((await api.request('GET', `/v1/users/${member.userId}`, { token: owner.token })).status).toBe(404);
    const gone = await api.request('POST', '/v1/auth/login', {
      body: { email: member.email, password: PASSWORD },
    });
    expect(gone.status).toBe(401);
  });

  it('refuses a duplicate email with 409', async () => {
    const response = await api.request('POST', '/v1/users', {
      token: owner.token,
      body: { email: owner.email, name: 'Dup', password: PASSWORD, role: 'member' },
    });
    expect(response.status).toBe(409);
  });

  it('keeps admins from managing owners and users from changing their own role', async () => {
    const admin = await userWithRole(api, owner.token, 'admin');
    const makeOwner = await api.request('POST', '/v1/users', {
      token: admin.token,
      body: { email: 'x-owner@example.test', name: 'X', password: PASSWORD, role: 'owner' },
    });
    expect(makeOwner.status).toBe(403);
    const demoteOwner = await api.request('PATCH', `/v1/users/${owner.ownerId}`, {
      token: admin.token,
      body: { role: 'member' },
    });
    expect(demoteOwner.status).toBe(403);
    const deleteOwner = await api.request('DELETE', `/v1/users/${owner.ownerId}`, { token: admin.token });
    expect(deleteOwner.status).toBe(403);
    const selfPromote = await api.request('PATCH', `/v1/users/${admin.userId}`, {
      token: admin.token,
      body: { role: 'owner' },
    });
    expect(selfPromote.status).toBe(403);
    const selfDelete = await api.request('DELETE', `/v1/users/${owner.ownerId}`, { token: owner.token });
    expect(selfDelete.status).toBe(403);
  });

  it('keeps at least one owner, and a demoted owner loses owner rights with the token they hold', async () => {
    const second = await userWithRole(api, owner.token, 'owner');
    const demoteFirst = await api.request('PATCH', `/v1/users/${owner.ownerId}`, {
      token: second.token,
      body: { role: 'admin' },
    });
    expect(demoteFirst.status).toBe(200);
    // The role is read from the record per request: the token still says owner, but it is an admin's now.
    const demoteLast = await api.request('PATCH', `/v1/users/${second.userId}`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(demoteLast.status).toBe(403);
    const selfDemote = await api.request('PATCH', `/v1/users/${second.userId}`, {
      token: second.token,
      body: { role: 'admin' },
    });
    expect(selfDemote.status).toBe(403);
  });

  it('grants location-scoped action permissions to existing locations only', async () => {
    const location = await api.request('POST', '/v1/locations', {
      token: owner.token,
      body: { name: 'Downtown', timezone: 'America/New_York', phone: '+12125550100' },
    });
    expect(location.status).toBe(201);
    const user = await api.request('POST', '/v1/users', {
      token: owner.token,
      body: {
        email: 'scoped@example.test',
        name: 'Scoped',
        password: PASSWORD,
        role: 'member',
        locationIds: [location.body.id],
        grants: [{ permission: 'sms:send', locationIds: [location.body.id] }],
      },
    });
    expect(user.status).toBe(201);
    expect(user.body.grants).toEqual([{ permission: 'sms:send', locationIds: [location.body.id] }]);
    const bogus = await api.request('POST', '/v1/users', {
      token: owner.token,
      body: {
        email: 'bogus@example.test',
        name: 'Bogus',
        password: PASSWORD,
        role: 'member',
        locationIds: ['loc_01ARZ3NDEKTSV4RRFFQ69G5FAV'],
      },
    });
    expect(bogus.status).toBe(400);
    expect(bogus.body.error.details.issues[0].field).toBe('body.locationIds');
    const badPermission = await api.request('POST', '/v1/users', {
      token: owner.token,
      body: {
        email: 'bp@example.test',
        name: 'B',
        password: PASSWORD,
        role: 'member',
        grants: [{ permission: 'launch:missiles' }],
      },
    });
    expect(badPermission.status).toBe(400);
    expect(badPermission.body.error.details.issues[0].field).toBe('body.grants.0.permission');
  });
});

describe('locations', () => {
  it('creates, lists with a cursor, updates and deletes', async () => {
    const { token } = await registerTenant(api);
    for (const name of ['North', 'South', 'East']) {
      expect((await api.request('POST', '/v1/locations', { token, body: { name } })).status).toBe(201);
    }
    const first = await api.request('GET', '/v1/locations?limit=2', { token });
    expect(first.body.items).toHaveLength(2);
    const second = await api.request(
      'GET',
      `/v1/locations?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { token },
    );
    expect(second.body.items).toHaveLength(1);
    const id = second.body.items[0].id;
    const updated = await api.request('PATCH', `/v1/locations/${id}`, {
      token,
      body: { timezone: 'Europe/Paris' },
    });
    expect(updated.body).toMatchObject({ timezone: 'Europe/Paris', version: 2 });
    const badZone = await api.request('PATCH', `/v1/locations/${id}`, {
      token,
      body: { timezone: 'Mars/Olympus' },
    });
    expect(badZone.status).toBe(400);
    expect((await api.request('DELETE', `/v1/locations/${id}`, { token })).status).toBe(204);
    expect((await api.request('GET', `/v1/locations/${id}`, { token })).status).toBe(404);
  });
});
