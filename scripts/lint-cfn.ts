/**
 * `npm run lint:cfn`: cfn-lint over the synthesized templates. Not part of `npm test`: cfn-lint is a
 * Python tool (pip install cfn-lint) that the CI machines cannot install.
 *
 * Two syntheses: dev exactly as `cdk synth` makes it (the CLI, offline), and dev with voice (the
 * Connect instance, Lex bot and contact flow) in eu-west-2, because dev's own region, eu-west-1, has
 * no Amazon Connect. The second goes through the library with bundling skipped: templates only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadEnvironmentConfig, type VoiceConfig } from '../lib/config';
import { createPlatform } from '../lib/stacks/platform';

const REPO_ROOT = path.join(__dirname, '..');

/**
 * Checks left out, each with its reason. W3005: CDK's Lambda Function declares `DependsOn` on its
 * role beside the `Fn::GetAtt` of the role's ARN (so that the role's policy exists before the first
 * invocation); cfn-lint calls the role half redundant. It is CDK's output, harmless, on every function.
 */
const IGNORED_CHECKS = ['W3005'];

/** The voice block linted: a created instance, two languages, a created human queue. */
export const LINTED_VOICE: VoiceConfig = {
  instance: { create: { alias: 'acme-agents-dev' } },
  languages: [
    { localeId: 'en_US', voiceId: 'Joanna' },
    { localeId: 'es_US', voiceId: 'Lupe' },
  ],
  humanQueue: { create: {} },
};

function templatesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.template.json'))
    .map((file) => path.join(dir, file));
}

function synthDevWithCli(outdir: string): void {
  execFileSync('npx', ['cdk', 'synth', '-c', 'env=dev', '--no-notices', '-q', '-o', outdir], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CDK_DISABLE_VERSION_CHECK: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
}

function synthDevWithVoice(outdir: string): void {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: { environments: Record<string, object> } & Record<string, unknown>;
  };
  const { environments } = cdkJson.context;
  const app = new App({
    outdir,
    context: {
      ...cdkJson.context,
      environments: {
        ...environments,
        dev: { ...environments.dev, region: 'eu-west-2', voice: LINTED_VOICE },
      },
      env: 'dev',
      // No stack is bundled: cfn-lint reads templates only.
      'aws:cdk:bundling-stacks': [],
    },
  });
  createPlatform(app, loadEnvironmentConfig(app));
  app.synth();
}

function main(): void {
  const base = mkdtempSync(path.join(tmpdir(), 'lint-cfn-'));
  const dev = path.join(base, 'dev');
  const voice = path.join(base, 'dev-voice');
  synthDevWithCli(dev);
  synthDevWithVoice(voice);
  const templates = [...templatesIn(dev), ...templatesIn(voice)];
  console.log(`cfn-lint on ${templates.length} templates:\n  ${templates.join('\n  ')}`);
  const result = spawnSync('cfn-lint', ['--ignore-checks', ...IGNORED_CHECKS, '--', ...templates], {
    stdio: 'inherit',
  });
  rmSync(base, { recursive: true, force: true });
  if (result.error) {
    console.error(`cfn-lint could not run (${result.error.message}): pip install cfn-lint`);
    process.exit(2);
  }
  process.exit(result.status ?? 1);
}

main();
