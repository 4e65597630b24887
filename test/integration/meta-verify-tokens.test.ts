import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoMetaVerifyTokens } from '../../lambdas/adapters/dynamodb/meta-verify-tokens';
import { withMetaVerifyTokenIndex } from '../../lambdas/domain/channels/meta-verify-tokens';
import type { ChannelSecrets } from '../../lambdas/domain/channels/model';
import { freshTable } from '../support/dynamodb';

/** Issue 11: Meta's GET handshake names no page; the verify tokens' hashes say whether it is ours. */
let table: Awaited<ReturnType<typeof freshTable>>;
let index: DynamoMetaVerifyTokens;

beforeAll(async () => {
  table = await freshTable();
  index = new DynamoMetaVerifyTokens(table.client, table.tableName);
});

function memorySecrets(): ChannelSecrets {
  const store = new Map<string, Readonly<Record<string, string>>>();
  return {
    get: async (t, a, c) => store.get(`${t}/${a}/${c}`),
    put: async (t, a, c, credentials) => void store.set(`${t}/${a}/${c}`, credentials),
    delete: async (t, a, c) => void store.delete(`${t}/${a}/${c}`),
  };
}

const platformScopes: string[] = [];
const inPlatformScope = <T>(work: () => Promise<T>) => {
  platformScopes.push('platform');
  return work();
};

describe('the Meta verify-token index', () => {
  it('knows a token while some Meta channel holds it, and stores only its hash', async () => {
    const secrets = withMetaVerifyTokenIndex(memorySecrets(), index, inPlatformScope);
    const credentials = {
      pageAccessToken: 'EAAG-x',
      appSecret: 'app-s',
      verifyToken: 'shared-verify-token-1',
    };
    await secrets.put('ten_A', 'agt_1', 'messenger', credentials);
    await secrets.put('ten_A', 'agt_2', 'instagram', credentials);
    expect(await index.isKnown('shared-verify-token-1')).toBe(true);
    expect(await index.isKnown('shared-verify-token-2')).toBe(false);
    expect(platformScopes.length).toBeGreaterThan(0);

    const { Items } = await table.client.send(new ScanCommand({ TableName: table.tableName }));
    expect(JSON.stringify(Items)).not.toContain('shared-verify-token-1');
    expect(JSON.stringify(Items)).not.toContain('app-s');

    // One of the two channels goes: the other still holds the token.
    await secrets.delete('ten_A', 'agt_1', 'messenger');
    expect(await index.isKnown('shared-verify-token-1')).toBe(true);
    await secrets.delete('ten_A', 'agt_2', 'instagram');
    expect(await index.isKnown('shared-verify-token-1')).toBe(false);
  });

  it('forgets the old token when a channel changes it', async () => {
    const secrets = withMetaVerifyTokenIndex(memorySecrets(), index, inPlatformScope);
    await secrets.put('ten_B', 'agt_1', 'messenger', {
      pageAccessToken: 'p',
      appSecret: 'a',
      verifyToken: 'old-token',
    });
    await secrets.put('ten_B', 'agt_1', 'messenger', {
      pageAccessToken: 'p',
      appSecret: 'a',
      verifyToken: 'new-token',
    });
    expect(await index.isKnown('old-token')).toBe(false);
    expect(await index.isKnown('new-token')).toBe(true);
  });

  it('indexes nothing for other channels', async () => {
    const secrets = withMetaVerifyTokenIndex(memorySecrets(), index, inPlatformScope);
    await secrets.put('ten_C', 'agt_1', 'slack', {
      botToken: 'b',
      signingSecret: 's',
      verifyToken: 'slack-has-none',
    });
    expect(await index.isKnown('slack-has-none')).toBe(false);
  });
});
