import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { channelRouteKey, DynamoChannelDirectory } from '../../lambdas/adapters/dynamodb/channel-directory';
import type { ChannelRoute } from '../../lambdas/domain/channels/model';
import { newId } from '../../lambdas/domain/shared/ids';
import { freshTable } from '../support/dynamodb';

/** Issue 11: one global (channel, address) → (tenant, agent) item, claimed race-safely. */
let table: Awaited<ReturnType<typeof freshTable>>;
let directory: DynamoChannelDirectory;

beforeAll(async () => {
  table = await freshTable();
  directory = new DynamoChannelDirectory(table.client, table.tableName);
});

const route = (address: string, tenantId = newId('tenant'), agentId = newId('agent')): ChannelRoute => ({
  channel: 'sms',
  address,
  tenantId,
  agentId,
});

describe('DynamoChannelDirectory', () => {
  it('of ten agents claiming one address at once, exactly one wins and the address routes to it', async () => {
    const claims = Array.from({ length: 10 }, () => route('+14155550100'));
    const results = await Promise.all(claims.map((claim) => directory.claim(claim)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = claims[results.indexOf(true)];
    expect(await directory.resolve('sms', '+14155550100')).toEqual(winner);
  });

  it('lets the holder claim again without moving the first claim time', async () => {
    const mine = route('+14155550101');
    expect(await directory.claim(mine)).toBe(true);
    const first = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: channelRouteKey('sms', mine.address) }),
    );
    expect(await directory.claim(mine)).toBe(true);
    const again = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: channelRouteKey('sms', mine.address) }),
    );
    expect(again.Item?.claimedAt).toBe(first.Item?.claimedAt);
  });

  it('refuses another agent of the same tenant as it refuses another tenant', async () => {
    const mine = route('+14155550102');
    expect(await directory.claim(mine)).toBe(true);
    expect(await directory.claim({ ...mine, agentId: newId('agent') })).toBe(false);
    expect(await directory.claim({ ...mine, tenantId: newId('tenant') })).toBe(false);
    expect(await directory.resolve('sms', mine.address)).toEqual(mine);
  });

  it('releases only its own claim, and then the address is free for the next agent', async () => {
    const mine = route('+14155550103');
    await directory.claim(mine);
    await directory.release({ ...mine, agentId: newId('agent') });
    await directory.release({ ...mine, tenantId: newId('tenant') });
    expect(await directory.resolve('sms', mine.address)).toEqual(mine);

    await directory.release(mine);
    expect(await directory.resolve('sms', mine.address)).toBeUndefined();
    await expect(directory.release(mine)).resolves.toBeUndefined();
    const next = route(mine.address);
    expect(await directory.claim(next)).toBe(true);
    expect(await directory.resolve('sms', mine.address)).toEqual(next);
  });

  it('keeps channels apart: one number on sms and on whatsapp are two addresses', async () => {
    const sms = route('+14155550104');
    const whatsapp: ChannelRoute = { ...route('+14155550104'), channel: 'whatsapp' };
    expect(await directory.claim(sms)).toBe(true);
    expect(await directory.claim(whatsapp)).toBe(true);
    expect(await directory.resolve('whatsapp', '+14155550104')).toEqual(whatsapp);
    expect(await directory.resolve('telegram', '+14155550104')).toBeUndefined();
  });
});
