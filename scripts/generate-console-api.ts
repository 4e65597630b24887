/**
 * Writes console/src/api/schema.generated.ts: the API's paths, operations and schemas as
 * TypeScript types (openapi-typescript), from the same OpenAPI document the API serves
 * (lambdas/http/openapi.generated.ts). The console's client (openapi-fetch) is typed by it. A unit
 * test fails when the file no longer matches: run `npm run generate:console-api` after
 * `npm run generate:openapi`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleApiTypes } from '../console/api-types';

const file = join(__dirname, '../console/src/api/schema.generated.ts');
consoleApiTypes().then((source) => {
  writeFileSync(file, source);
  console.log(`wrote ${file} (${Math.round(source.length / 1024)} KB)`);
});
