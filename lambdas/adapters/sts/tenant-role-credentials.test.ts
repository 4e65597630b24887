import { AssumeRoleCommand, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { TenantRoleCredentials } from './tenant-role-credentials';

const ROLE = 'arn:aws:iam::123456789012:role/tenant-access';

/** A stand-in for STS: answers AssumeRole with credentials valid for the asked duration. */
function fakeSts(clock: { now: number }, options: { fail?: boolean; delayMs?: number } = {}) {
  const calls: AssumeRoleCommandInput[] = [];
  let serial = 0;
  const send = async (command: unknown) => {
    if (!(command instanceof AssumeRoleCommand)) throw new Error('unexpected command');
    calls.push(command.input);
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 1));
    if (options.fail) throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
    serial += 1;
    return {
      Credentials: {
        AccessKeyId: `AKIA${serial}`,
        SecretAccessKey: 'secret',
        SessionToken: `token-${serial}`,
        Expiration: new Date(clock.now + (command.input.DurationSeconds ?? 900) * 1000),
      },
    };
  };
  return { sts: { send } as never, calls };
}

describe('TenantRoleCredentials', () => {
  it('assumes the role with the tenant as session tag, and caches until 5 minutes before expiry', async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const { sts, calls } = fakeSts(clock);
    const roles = new TenantRoleCredentials(sts, {
      roleArn: ROLE,
      sessionTag: 'tenant',
      now: () => clock.now,
    });

    const first = await roles.get('ten_A1');
    expect(calls).toEqual([
      {
        RoleArn: ROLE,
        RoleSessionName: 'tenant-ten_A1',
        DurationSeconds: 900,
        Tags: [{ Key: 'tenant', Value: 'ten_A1' }],
      },
    ]);
    clock.now += 9 * 60_000; // 6 minutes of the 15 left: still cached
    expect(await roles.get('ten_A1')).toBe(first);
    expect(calls).toHaveLength(1);

    clock.now += 60_000 + 1; // now within 5 minutes of expiry: refreshed
    const second = await roles.get('ten_A1');
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(calls).toHaveLength(2);
  });

  it('has concurrent first calls for one tenant share one AssumeRole, and keeps tenants apart', async () => {
    const clock = { now: Date.now() };
    const { sts, calls } = fakeSts(clock, { delayMs: 20 });
    const roles = new TenantRoleCredentials(sts, {
      roleArn: ROLE,
      sessionTag: 'tenant',
      now: () => clock.now,
    });

    const results = await Promise.all([
      roles.get('ten_A1'),
      roles.get('ten_A1'),
      roles.get('ten_B2'),
      roles.get('ten_A1'),
    ]);
    expect(calls.map((call) => call.Tags?.[0]?.Value)).toEqual(['ten_A1', 'ten_B2']);
    expect(results[0]).toBe(results[1]);
    expect(results[0]).toBe(results[3]);
    expect(results[2]).not.toBe(results[0]);
  });

  it('does not cache a failure: the next call asks STS again', async () => {
    const clock = { now: Date.now() };
    const failing = fakeSts(clock, { fail: true });
    const roles = new TenantRoleCredentials(failing.sts, { roleArn: ROLE, sessionTag: 'tenant' });
    await expect(roles.get('ten_A1')).rejects.toThrow('denied');
    await expect(roles.get('ten_A1')).rejects.toThrow('denied');
    expect(failing.calls).toHaveLength(2);
    expect(roles.cachedTenants).toBe(0);
  });

  it('keeps at most maxTenants, dropping the least recently used', async () => {
    const clock = { now: Date.now() };
    const { sts, calls } = fakeSts(clock);
    const roles = new TenantRoleCredentials(sts, {
      roleArn: ROLE,
      sessionTag: 'tenant',
      maxTenants: 2,
      now: () => clock.now,
    });
    await roles.get('ten_A1');
    await roles.get('ten_B2');
    await roles.get('ten_A1'); // A used last: B is the oldest
    await roles.get('ten_C3');
    expect(roles.cachedTenants).toBe(2);
    await roles.get('ten_A1');
    expect(calls).toHaveLength(3);
    await roles.get('ten_B2');
    expect(calls).toHaveLength(4);
  });
});
