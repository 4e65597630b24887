import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy, CfnRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { HttpLambdaName } from '../../lambdas/http/route-table';
import { HTTP_LAMBDAS } from '../../lib/http-lambdas';
import { buildPlatform, logicalIdOf, type PlatformFixture } from './platform-fixture';

interface ReportViolation {
  ruleName: string;
  severity: string;
  violatingConstructs?: { constructPath: string }[];
}
interface ValidationReport {
  pluginReports: { pluginName: string; violations: ReportViolation[] }[];
}

/** The report CDK writes after running the validation plugins, one line per finding. */
function findingsInReport(assembly: CloudAssembly): string[] {
  const file = path.join(assembly.directory, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReport;
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map(
      (v) =>
        `${plugin.pluginName} ${v.severity} ${v.ruleName} at ${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')}`,
    ),
  );
}

/** What cdk-nag itself reports as not acknowledged, warnings included. */
function unacknowledgedFindings(app: App): string[] {
  return new AwsSolutionsChecks()
    .validateScope(app)
    .violations.map(
      (v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
}

/** A resolved ARN the way cdk-nag names it in an IAM5 finding (`{ Ref: X }` becomes `<X>`). */
function flattenArn(node: unknown): string {
  if (typeof node === 'string') return node;
  const value = node as {
    'Fn::Join'?: [string, unknown[]];
    Ref?: string;
    'Fn::GetAtt'?: [string, string];
    'Fn::Sub'?: unknown;
  };
  if (value['Fn::Join']) return value['Fn::Join'][1].map(flattenArn).join(value['Fn::Join'][0]);
  // `${AWS::AccountId}` in a Sub string becomes `<AWS::AccountId>` below, as cdk-nag names it.
  if (typeof value['Fn::Sub'] === 'string') return value['Fn::Sub'];
  if (value.Ref) return `<${value.Ref}>`;
  if (value['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  return JSON.stringify(node);
}

/**
 * Every resource of every IAM policy below a construct (policies and roles' inline policies),
 * flattened as cdk-nag flattens them (a policy variable `${name}` becomes `<name>`).
 */
function policyResourcesUnder(construct: IConstruct): string[] {
  const documents = construct.node.findAll().flatMap((c) => {
    if (!CfnResource.isCfnResource(c)) return [];
    if (c instanceof CfnPolicy) return [Stack.of(c).resolve(c.policyDocument)];
    if (c instanceof CfnRole) {
      const inline = (Stack.of(c).resolve(c.policies) ?? []) as { policyDocument: unknown }[];
      return inline.map((policy) => policy.policyDocument);
    }
    return [];
  }) as { Statement: { Effect: string; Resource: unknown }[] }[];
  return documents.flatMap((document) =>
    document.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
      (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((resource) =>
        flattenArn(resource).replace(/\$\{([^}]+)\}/g, '<$1>'),
      ),
    ),
  );
}

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason: String(reason),
        })),
      ),
  );
}

describe('cdk-nag (AwsSolutions) as wired in bin/app.ts', () => {
  it('reports a finding that nobody acknowledged, and only that one', () => {
    // Proves the detection this file relies on: a plain topic without enforceSSL breaks SNS3.
    const app = new App();
    const stack = new Stack(app, 'Probe');
    new Topic(stack, 'PlainTopic');
    const acknowledged = new Topic(stack, 'AcknowledgedTopic');
    Validations.of(acknowledged).acknowledge({ id: 'AwsSolutions-SNS3', reason: 'probe' });
    expect(unacknowledgedFindings(app)).toEqual(['error AwsSolutions-SNS3 at Probe/PlainTopic/Resource']);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
  });

  describe.each([
    ['dev', true],
    ['prod', false],
  ])('%s', (envName, bundle) => {
    let fixture: PlatformFixture;
    let assembly: CloudAssembly;

    beforeAll(() => {
      fixture = buildPlatform(envName, { bundle });
      Validations.of(fixture.app).addPlugins(new AwsSolutionsChecks(fixture.app));
      // Under jest the app synthesizes in-memory, so a failing validation throws here.
      assembly = fixture.app.synth();
    });

    it('synthesizes with no unacknowledged cdk-nag finding (errors or warnings)', () => {
      expect(unacknowledgedFindings(fixture.app)).toEqual([]);
    });

    it('leaves nothing in the validation report (cdk-nag or CloudFormation rules)', () => {
      expect(findingsInReport(assembly)).toEqual([]);
    });

    it('emits no construct warning or error', () => {
      for (const stack of [
        fixture.stateful,
        fixture.workflows,
        fixture.api,
        ...(fixture.console ? [fixture.console] : []),
      ]) {
        // Read from the assembly already built: Annotations.fromStack would synthesize (and bundle) again.
        const messages = assembly
          .getStackArtifact(stack.artifactId)
          .messages.filter((m) => m.level !== 'info')
          .map((m) => `${m.level} at ${m.id}: ${String(m.entry.data)}`);
        expect(messages).toEqual([]);
      }
    });

    it('gives every acknowledged finding a specific written reason', () => {
      const acks = acknowledgements(fixture.app);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
        expect(ack.reason.length).toBeGreaterThanOrEqual(80);
      }
    });

    it('acknowledges wildcard resources (IAM5) only where the role’s policy has exactly that resource', () => {
      const iam5 = acknowledgements(fixture.app).filter((ack) =>
        ack.id.startsWith('AwsSolutions-IAM5[Resource::'),
      );
      expect(iam5.length).toBeGreaterThan(0);
      for (const ack of iam5) {
        const resource = ack.id.slice('AwsSolutions-IAM5[Resource::'.length, -1);
        const construct = fixture.app.node.findAll().find((c) => c.node.path === ack.path);
        expect(construct && policyResourcesUnder(construct)).toContain(resource);
      }
    });

    it('acknowledges the chat-model wildcards on the roles of model-calling Lambdas only', () => {
      const region = Stack.of(fixture.api).region;
      const chatModelAcks = acknowledgements(fixture.app).filter((ack) => /bedrock:.*\*\]$/.test(ack.id));
      const roles = [...new Set(chatModelAcks.map((ack) => ack.path))].sort();
      expect(roles).toEqual(
        [
          fixture.api.api.functions.runtime.role,
          fixture.api.executions.worker.role,
          fixture.api.inbound.worker.role,
          // send_message runs chat turns over the WebSocket API.
          fixture.api.realtime.messageFunction.role,
        ]
          .map((role) => role.node.path)
          .sort(),
      );
      for (const role of roles) {
        expect(
          chatModelAcks
            .filter((ack) => ack.path === role)
            .map((ack) => ack.id)
            .sort(),
        ).toEqual(
          [
            'AwsSolutions-IAM5[Resource::arn:aws:bedrock:*::foundation-model/*]',
            `AwsSolutions-IAM5[Resource::arn:aws:bedrock:${region}:<AWS::AccountId>:guardrail/*]`,
            `AwsSolutions-IAM5[Resource::arn:aws:bedrock:${region}:<AWS::AccountId>:inference-profile/*]`,
            `AwsSolutions-IAM5[Resource::arn:aws:bedrock:${region}::foundation-model/*]`,
          ].sort(),
        );
      }
    });

    if (bundle) {
      const bundled: [string, (f: PlatformFixture) => IFunction][] = [
        ...(Object.keys(HTTP_LAMBDAS) as HttpLambdaName[]).map(
          (name): [string, (f: PlatformFixture) => IFunction] => [
            name,
            (f) => f.api.api.functions[name].function,
          ],
        ),
        ['execution-worker', (f) => f.api.executions.worker.function],
      ];
      it.each(bundled)(
        'bundles %s locally into one minified CommonJS file without source map',
        (_name, functionOf) => {
          const fn = functionOf(fixture);
          const template = assembly.getStackArtifact(fixture.api.artifactId).template as {
            Resources: Record<string, { Properties: { Code: { S3Key: string } } }>;
          };
          const s3Key = template.Resources[logicalIdOf(fixture.api, fn)]?.Properties.Code.S3Key ?? '';
          // Assets are staged as asset.<hash> and uploaded as <hash>.zip.
          const bundle = path.join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.js');
          const code = readFileSync(bundle, 'utf8');
          expect(code.length).toBeGreaterThan(10_000);
          // Minified: a few very long lines (template literals keep some newlines), not one per statement.
          expect(code.length / code.split('\n').length).toBeGreaterThan(1_000);
          expect(code).toContain('module.exports');
          expect(code).not.toContain('sourceMappingURL');
          expect(existsSync(`${bundle}.map`)).toBe(false);
        },
      );
    }
  });
});
