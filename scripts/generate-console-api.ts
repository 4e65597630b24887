/**
 * Writes console/src/api/schema.generated.ts: the API's paths, operations and schemas as
 * TypeScript types (openapi-typescript), from the same OpenAPI document the API serves
 * (lambdas/http/openapi.generated.ts). The console's client (openapi-fetch) is typed by it.
 * `--stdout` prints the source instead (console/api-types.test.ts compares it with the file:
 * openapi-typescript's dependencies are ES modules, which tsx loads and jest does not).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleApiTypes } from '../console/api-types';

const file = join(__dirname, '../console/src/api/schema.generated.ts');
consoleApiTypes().then((source) => {
  if (process.argv.includes('--stdout')) {
    process.stdout.write(source);
    return;
  }
  writeFileSync(file, source);
  console.log(`wrote ${file} (${Math.round(source.length / 1024)} KB)`);
});
