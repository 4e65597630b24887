import { buildOpenApiDocument } from '../../http/openapi';
import { CHANNEL_CREDENTIALS } from '../channels/credential-fields';
import { CHANNEL_KINDS } from '../channels/settings';
import { provisionAgentBody } from './model';

const agent = { name: 'A', businessType: 'dental', model: { provider: 'scripted', modelId: 'scripted-v1' } };

describe('the provision request, channel by channel', () => {
  const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, any>> };
  const variants: any[] =
    doc.paths['/v1/agents/provision']?.post.requestBody.content['application/json'].schema.properties.channels
      .items.oneOf ??
    doc.paths['/v1/agents/provision']?.post.requestBody.content['application/json'].schema.properties.channels
      .items.anyOf;
  const variantOf = (type: string) => variants.find((v) => v.properties.type.const === type);

  it.each(Object.keys(CHANNEL_KINDS).filter((t) => t !== 'voice'))(
    '%s: OpenAPI names exactly the credential fields the API checks, each a secret with where to find it',
    (type) => {
      const expected = CHANNEL_KINDS[type as keyof typeof CHANNEL_KINDS].credentials;
      const credentials = variantOf(type).properties.credentials;
      if (expected.length === 0) {
        expect(credentials).toBeUndefined();
        return;
      }
      expect(Object.keys(credentials.properties)).toEqual([...expected]);
      expect(credentials.required).toEqual([...expected]);
      expect(credentials.additionalProperties).toBe(false);
      for (const field of expected) {
        expect(credentials.properties[field]).toMatchObject({
          type: 'string',
          format: 'password',
          description: (CHANNEL_CREDENTIALS as Record<string, Record<string, string>>)[type]?.[field],
        });
      }
    },
  );

  it('refuses another channel’s credential field and a missing one, naming each', () => {
    const wrong = provisionAgentBody().safeParse({
      agent,
      channels: [{ type: 'telegram', credentials: { botToken: '1:x', signingSecret: 's' } }],
    });
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]).toMatchObject({
      code: 'unrecognized_keys',
      keys: ['signingSecret'],
      path: ['channels', 0, 'credentials'],
    });
    const missing = provisionAgentBody().safeParse({
      agent,
      channels: [{ type: 'sms', address: '+14155550100', credentials: { accountSid: 'AC1' } }],
    });
    expect(missing.error?.issues[0]?.path).toEqual(['channels', 0, 'credentials', 'authToken']);
  });
});
