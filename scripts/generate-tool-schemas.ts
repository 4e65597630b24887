/**
 * Writes each built-in tool's input JSON Schema, generated from its zod schema, to
 * lambdas/domain/tools/tool-input-schemas.json. The runtime sends these to the model without
 * carrying zod's JSON-Schema generator (≈ 20 KB) in its cold start. A unit test fails when the
 * file no longer matches the zod schemas: run `npm run generate:tool-schemas` after changing one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemaOf, listTools } from '../lambdas/domain/tools/registry';

const schemas = Object.fromEntries(listTools().map((tool) => [tool.name, jsonSchemaOf(tool)]));
const file = join(__dirname, '../lambdas/domain/tools/tool-input-schemas.json');
writeFileSync(file, `${JSON.stringify(schemas, null, 2)}\n`);
console.log(`wrote ${Object.keys(schemas).length} tool schemas to ${file}`);
