import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import { freshTable } from '../../../test/support/dynamodb';
import { DynamoAgentRepository } from '../../adapters/dynamodb/agent-repository';
import { DynamoChannelDirectory } from '../../adapters/dynamodb/channel-directory';
import { DynamoLocationRepository } from '../../adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../../adapters/dynamodb/tenant-repository';
import { DATA_SCOPES } from '../../composition/tenant-scope';
import type { DeclaredRecordsDeps } from '../../domain/provisioning/declared';
import { type CustomResourceResponse, declaredAgentRecordsHandler } from './declared-agent-records';

const TENANT_ID = `ten_01J${'0'.repeat(19)}DECK`;
const AGENT_ID = `agt_01J${'0'.repeat(20)}AG1`;
const NUMBER = '+442071838750';
const NEW_NUMBER = '+442071838751';
const STACK_ID = 'arn:aws:cloudformation:eu-west-2:111122223333:stack/AgentPlatform-dev-Tenant-acme-dental/1';

const AGENT_CONFIG = {
  name: 'Front desk',
  businessType: 'dental',
  model: { provider: 'bedrock', modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
  instructions: 'Answer the phone for Acme Dental.',
};

/** What the template gives the resource (CloudFormation passes every value as a string). */
const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-2:111122223333:function:records';
const tenantProperties = (overrides: Record<string, string> = {}) => ({
  ServiceToken: SERVICE_TOKEN,
  Kind: 'tenant',
  TenantId: TENANT_ID,
  TenantName: 'Acme Dental',
  TenantSlug: 'acme-dental',
  OwnerEmail: 'owner@acme-dental.example',
  OwnerName: 'Ada Owner',
  ...overrides,
});
type Props = { ServiceToken: string } & Record<string, string>;
const properties = (overrides: Record<string, string> = {}) => ({
  ServiceToken: SERVICE_TOKEN,
  Kind: 'agent',
  TenantId: TENANT_ID,
  AgentId: AGENT_ID,
  AgentConfig: JSON.stringify(AGENT_CONFIG),
  VoiceNumber: NUMBER,
  ...overrides,
});

describe('declared agent records (CloudFormation custom resource, DynamoDB Local)', () => {
  let client: DynamoDBDocumentClient;
  let deps: DeclaredRecordsDeps;
  let server: Server;
  let responseUrl: string;
  const responses: CustomResourceResponse[] = [];
  let requestCount = 0;

  beforeAll(async () => {
    const table = await freshTable();
    client = table.client;
    const agents = new DynamoAgentRepository(client, table.tableName);
    deps = {
      tenants: new DynamoTenantRepository(client, table.tableName),
      agents,
      locations: new DynamoLocationRepository(client, table.tableName),
      directory: new DynamoChannelDirectory(client, table.tableName),
      // The test's client is not routed by scope (no tenant-access role here).
      scopes: DATA_SCOPES,
    };
    // The presigned S3 URL CloudFormation waits on: the answer is PUT there, unsigned content type.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        expect(req.method).toBe('PUT');
        expect(req.headers['content-type'] ?? '').toBe('');
        responses.push(JSON.parse(body) as CustomResourceResponse);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cfn-response?X-Amz-Signature=x`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const handler = () => declaredAgentRecordsHandler(() => deps, { env: { DECLARED_TENANT_ID: TENANT_ID } });

  /** Invokes the handler and returns the one answer it PUT for this request. */
  async function send(event: CloudFormationCustomResourceEvent): Promise<CustomResourceResponse> {
    await handler()(event);
    const answers = responses.filter((r) => r.RequestId === event.RequestId);
    expect(answers).toHaveLength(1);
    return answers[0] as CustomResourceResponse;
  }

  const common = () => ({
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: `req-${++requestCount}`,
    LogicalResourceId: 'AgentRecords',
    ResourceType: 'Custom::DeclaredAgentRecords',
  });
  const create = (props: Props = properties()): CloudFormationCustomResourceCreateEvent => ({
    ...common(),
    RequestType: 'Create',
    ResourceProperties: props,
  });
  const update = (
    props: Props,
    old: Props,
    physicalId = `${TENANT_ID}/${AGENT_ID}`,
  ): CloudFormationCustomResourceUpdateEvent => ({
    ...common(),
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    ResourceProperties: props,
    OldResourceProperties: old,
  });
  const remove = (props: Props = properties()): CloudFormationCustomResourceDeleteEvent => ({
    ...common(),
    RequestType: 'Delete',
    PhysicalResourceId: `${TENANT_ID}/${AGENT_ID}`,
    ResourceProperties: props,
  });

  const route = (address: string) => deps.directory.resolve('voice', address);
  const versions = async () =>
    (await deps.agents.listVersions(TENANT_ID, AGENT_ID, { limit: 50 })).items.length;

  it('an agent before its tenant fails, naming the tenant', async () => {
    const early = await send(create());
    expect(early).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining(TENANT_ID) });
  });

  it('Create (tenant): the tenant with its owner and slug; again, and on Update, nothing more', async () => {
    const response = await send(create(tenantProperties()));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: TENANT_ID });
    expect((await send(create(tenantProperties()))).Status).toBe('SUCCESS');
    expect((await send(update(tenantProperties(), tenantProperties(), TENANT_ID))).Status).toBe('SUCCESS');
    expect(await deps.tenants.get(TENANT_ID)).toMatchObject({ version: 1, slug: 'acme-dental' });
  });

  it('Create (agents, in parallel as CloudFormation runs them): each agent active on its number, routed to it', async () => {
    const siblings = [1, 2, 3, 4].map((n) => `agt_01J${'0'.repeat(20)}SB${n}`);
    const parallel = await Promise.all(
      siblings.map((id, n) => send(create(properties({ AgentId: id, VoiceNumber: `+44207183870${n}` })))),
    );
    expect(parallel.map((r) => r.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    const response = await send(create());
    expect(response).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: `${TENANT_ID}/${AGENT_ID}`,
      StackId: STACK_ID,
      RequestId: expect.any(String),
      LogicalResourceId: 'AgentRecords',
      Data: { AgentId: AGENT_ID, Status: 'active' },
    });
    const tenant = await deps.tenants.get(TENANT_ID);
    expect(tenant).toMatchObject({
      id: TENANT_ID,
      name: 'Acme Dental',
      slug: 'acme-dental',
      status: 'active',
    });
    const agent = await deps.agents.get(TENANT_ID, AGENT_ID);
    expect(agent).toMatchObject({
      name: 'Front desk',
      status: 'active',
      channels: [{ type: 'voice', enabled: true, address: NUMBER }],
    });
    expect(await route(NUMBER)).toEqual({
      channel: 'voice',
      address: NUMBER,
      tenantId: TENANT_ID,
      agentId: AGENT_ID,
    });
  });

  it('Create again (a retried invocation) and Update with the same properties change nothing', async () => {
    const before = await versions();
    expect((await send(create())).Status).toBe('SUCCESS');
    expect((await send(update(properties(), properties()))).Status).toBe('SUCCESS');
    expect(await versions()).toBe(before);
    expect((await deps.agents.get(TENANT_ID, AGENT_ID))?.version).toBe(before);
  });

  it('Update: a changed configuration becomes a new version; a new number is routed and the old released', async () => {
    const before = await versions();
    const changed = properties({
      AgentConfig: JSON.stringify({ ...AGENT_CONFIG, instructions: 'Answer for Acme Dental, Leeds.' }),
      VoiceNumber: NEW_NUMBER,
    });
    expect((await send(update(changed, properties()))).Status).toBe('SUCCESS');
    const agent = await deps.agents.get(TENANT_ID, AGENT_ID);
    expect(agent).toMatchObject({
      instructions: 'Answer for Acme Dental, Leeds.',
      channels: [{ type: 'voice', address: NEW_NUMBER }],
      status: 'active',
    });
    expect(await versions()).toBe(before + 2);
    expect(
      (
        await send(
          update(tenantProperties({ TenantName: 'Acme Dental Leeds' }), tenantProperties(), TENANT_ID),
        )
      ).Status,
    ).toBe('SUCCESS');
    expect((await deps.tenants.get(TENANT_ID))?.name).toBe('Acme Dental Leeds');
    expect(await route(NEW_NUMBER)).toMatchObject({ agentId: AGENT_ID });
    expect(await route(NUMBER)).toBeUndefined();
  });

  it('answers FAILED with the field for bad properties, and for another tenant, writing nothing', async () => {
    const bad = await send(
      create(properties({ AgentConfig: JSON.stringify({ ...AGENT_CONFIG, model: {} }) })),
    );
    expect(bad).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^AgentConfig: model\.provider/),
    });
    expect(bad.PhysicalResourceId).toMatch(/^failed-/);
    const other = `ten_01J${'0'.repeat(19)}OTHR`;
    const foreign = await send(create(tenantProperties({ TenantId: other })));
    expect(foreign).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('serves tenant') });
    expect(await deps.tenants.get(other)).toBeUndefined();
  });

  it('answers FAILED when the number is routed to another agent', async () => {
    await deps.directory.claim({
      channel: 'voice',
      address: '+442071838799',
      tenantId: TENANT_ID,
      agentId: 'agt_other',
    });
    const taken = await send(
      update(properties({ VoiceNumber: '+442071838799' }), properties({ VoiceNumber: NEW_NUMBER })),
    );
    expect(taken).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('routed to another agent'),
    });
    expect((await deps.agents.get(TENANT_ID, AGENT_ID))?.channels).toEqual([
      { type: 'voice', enabled: true, address: NEW_NUMBER },
    ]);
  });

  it('Delete: soft-deletes the agent and releases its number; a second Delete succeeds too', async () => {
    const response = await send(remove(properties({ VoiceNumber: NEW_NUMBER })));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `${TENANT_ID}/${AGENT_ID}` });
    expect(await deps.agents.get(TENANT_ID, AGENT_ID)).toBeUndefined();
    expect(await deps.agents.isDeleted(TENANT_ID, AGENT_ID)).toBe(true);
    expect(await route(NEW_NUMBER)).toBeUndefined();
    // The tenant and its data stay.
    expect(await deps.tenants.get(TENANT_ID)).toBeDefined();
    expect((await send(remove(properties({ VoiceNumber: NEW_NUMBER })))).Status).toBe('SUCCESS');
  });

  it('refuses to declare a deleted agent again under its old id, naming why', async () => {
    const again = await send(create(properties({ VoiceNumber: NEW_NUMBER })));
    expect(again).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringContaining('declare it under a new id'),
    });
    expect(await route(NEW_NUMBER)).toBeUndefined();
  });

  it('Delete (tenant): the tenant and its data stay', async () => {
    const event = { ...remove(tenantProperties()), PhysicalResourceId: TENANT_ID };
    expect(await send(event)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: TENANT_ID });
    expect(await deps.tenants.get(TENANT_ID)).toBeDefined();
  });

  it('Delete of a resource whose create failed touches nothing', async () => {
    const event = { ...remove(), PhysicalResourceId: 'failed-req-1' };
    expect(await send(event)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'failed-req-1' });
  });
});
