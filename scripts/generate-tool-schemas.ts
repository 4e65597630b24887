/**
 * Writes the input JSON Schema of each built-in tool and each action, generated from its zod
 * schema, to lambdas/domain/tools/tool-input-schemas.json and
 * lambdas/domain/actions/action-input-schemas.json. The runtime sends these to the model without
 * carrying zod's JSON-Schema generator (≈ 20 KB) in its cold start. Unit tests fail when a file no
 * longer matches the zod schemas: run `npm run generate:tool-schemas` after changing one.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionJsonSchemaOf, listActions } from '../lambdas/domain/actions/catalog';
import { jsonSchemaOf, listTools } from '../lambdas/domain/tools/registry';

const written: string[] = [];

function write(relativePath: string, schemas: Record<string, unknown>, what: string): void {
  const file = join(__dirname, relativePath);
  writeFileSync(file, `${JSON.stringify(schemas, null, 2)}\n`);
  written.push(file);
  console.log(`wrote ${Object.keys(schemas).length} ${what} schemas to ${file}`);
}

write(
  '../lambdas/domain/tools/tool-input-schemas.json',
  Object.fromEntries(listTools().map((tool) => [tool.name, jsonSchemaOf(tool)])),
  'tool',
);
write(
  '../lambdas/domain/actions/action-input-schemas.json',
  Object.fromEntries(listActions().map((action) => [action.name, actionJsonSchemaOf(action)])),
  'action',
);

// In the repository's format, so that `npm run lint` passes on the generated files as written.
execFileSync(join(__dirname, '../node_modules/.bin/biome'), ['format', '--write', ...written], {
  stdio: 'inherit',
});
