import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

describe('console API types', () => {
  it('match the served OpenAPI document (run npm run generate:openapi if this fails)', () => {
    const committed = readFileSync(join(__dirname, 'src/api/schema.generated.ts'), 'utf8');
    const generated = execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        join(ROOT, 'scripts/generate-console-api.ts'),
        '--stdout',
      ],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
    );
    expect(generated.length).toBeGreaterThan(100_000);
    expect(committed).toBe(generated);
  });
});
