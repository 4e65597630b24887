import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { type ISource, Source } from 'aws-cdk-lib/aws-s3-deployment';

const REPO_ROOT = path.join(__dirname, '..');
const CONSOLE_DIR = path.join(REPO_ROOT, 'console');

/** What a console build must contain: the app's page and the chat widget's script. */
export const CONSOLE_BUILD_FILES = ['index.html', 'widget.js'] as const;

/**
 * Builds the console and the chat widget into `outDir` with the very configurations
 * `npm run build:console` uses, but not into console/dist: a synth never rewrites the files that
 * `npm start` or a browser test is serving. Throws, naming `npm run build:console`, when vite is
 * missing, a build fails or a file the deployment needs is absent.
 */
export function buildConsole(outDir: string, repoRoot: string = REPO_ROOT): void {
  const vite = path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) {
    throw new Error(
      `Cannot build the console for deployment: vite is not installed (${vite}). Run \`npm ci\`, then \`npm run build:console\` to check the build.`,
    );
  }
  for (const config of ['console/vite.config.mts', 'console/widget/vite.config.mts']) {
    const args = [vite, 'build', '--config', path.join(repoRoot, config), '--outDir', outDir];
    try {
      execFileSync(process.execPath, [...args, '--logLevel', 'warn'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(
        `Building the console for deployment failed (vite build --config ${config}); \`npm run build:console\` shows the same error:\n${stderr ?? ''}${stdout ?? ''}`,
      );
    }
  }
  const missing = CONSOLE_BUILD_FILES.filter((file) => !existsSync(path.join(outDir, file)));
  if (missing.length > 0) {
    throw new Error(
      `The console build has no ${missing.join(', ')} in ${outDir}: check \`npm run build:console\``,
    );
  }
}

/**
 * The console's files for the deployment: built from console/ while the CDK bundles assets (the
 * CLI's `cdk synth` / `cdk deploy`, once per synth), so a fresh clone deploys after `npm ci` alone and
 * what is deployed is always the source's build, never a stale console/dist. The asset's hash is
 * the build's output: an unchanged console uploads nothing. Where bundling is skipped (the infra
 * tests' default, `cdk deploy --exclusively` of another stack) nothing is built.
 */
export function consoleSource(): ISource {
  return Source.asset(CONSOLE_DIR, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; never pulled, because the local build either succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
      local: {
        tryBundle(outputDir: string): boolean {
          buildConsole(outputDir);
          return true;
        },
      },
    },
  });
}
