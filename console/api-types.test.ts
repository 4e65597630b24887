import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleApiTypes } from './api-types';

describe('console API types', () => {
  it('match the served OpenAPI document (run npm run generate:console-api if this fails)', async () => {
    const committed = readFileSync(join(__dirname, 'src/api/schema.generated.ts'), 'utf8');
    expect(committed).toBe(await consoleApiTypes());
  });
});
