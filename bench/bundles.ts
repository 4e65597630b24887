import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { LAMBDA_ESBUILD_OPTIONS } from '../lib/bundling';
import { REPO_ROOT } from './paths';

export interface SizedPart {
  readonly name: string;
  readonly bytes: number;
}

export interface Bundle {
  /** Absolute path of the bundled file. */
  readonly file: string;
  readonly bytes: number;
  /** Largest inputs by the bytes they contribute to the minified output (not their source size). */
  readonly topInputs: readonly SizedPart[];
  /** The same bytes rolled up by npm package, or by folder for the project's own code. */
  readonly topPackages: readonly SizedPart[];
}

const TOP = 10;

// `mainFields` is a readonly tuple in the shared options; esbuild's type wants a mutable array.
const baseOptions: BuildOptions = {
  ...LAMBDA_ESBUILD_OPTIONS,
  mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
  external: [...LAMBDA_ESBUILD_OPTIONS.external],
};

function ownerOf(input: string): string {
  const marker = 'node_modules/';
  const at = input.lastIndexOf(marker);
  if (at === -1) return `${dirname(input)}/`;
  const [scopeOrName = input, name] = input.slice(at + marker.length).split('/');
  return scopeOrName.startsWith('@') && name ? `${scopeOrName}/${name}` : scopeOrName;
}

function describe(file: string, metafile: Metafile): Bundle {
  const key = relative(REPO_ROOT, file);
  const output = metafile.outputs[key];
  if (!output) throw new Error(`esbuild's metafile has no output ${key}`);
  const inputs = Object.entries(output.inputs).map(([name, { bytesInOutput }]) => ({
    name,
    bytes: bytesInOutput,
  }));
  const byOwner = new Map<string, number>();
  for (const { name, bytes } of inputs) byOwner.set(ownerOf(name), (byOwner.get(ownerOf(name)) ?? 0) + bytes);
  const largest = (parts: SizedPart[]) => parts.sort((a, b) => b.bytes - a.bytes).slice(0, TOP);
  return {
    file,
    bytes: output.bytes,
    topInputs: largest(inputs),
    topPackages: largest([...byOwner].map(([name, bytes]) => ({ name, bytes }))),
  };
}

async function bundle(options: BuildOptions & { outfile: string }): Promise<Bundle> {
  await mkdir(dirname(options.outfile), { recursive: true });
  const result = await build({
    ...baseOptions,
    ...options,
    absWorkingDir: REPO_ROOT,
    metafile: true,
    write: true,
    logLevel: 'silent',
  });
  return describe(options.outfile, result.metafile);
}

/** Bundles a Lambda entry exactly as deployed (LAMBDA_ESBUILD_OPTIONS), into `outDir/<name>.js`. */
export function bundleEntry(name: string, entry: string, outDir: string): Promise<Bundle> {
  return bundle({ entryPoints: [join(REPO_ROOT, entry)], outfile: join(outDir, `${name}.js`) });
}

/**
 * The class a `@aws-sdk/client-*` package exports as its client. Found by looking rather than
 * derived from the package name, because the SDK's casing is irregular (client-sfn → SFNClient).
 */
async function clientClassOf(pkg: string): Promise<string> {
  const exported = (await import(pkg)) as Record<string, unknown>;
  const names = Object.keys(exported).filter((name) => {
    const value = exported[name];
    const send: unknown =
      typeof value === 'function' ? (value.prototype as { send?: unknown } | undefined)?.send : undefined;
    return /^[A-Z]\w*Client$/.test(name) && typeof send === 'function';
  });
  const [only] = names;
  if (names.length !== 1 || only === undefined) {
    throw new Error(
      `Cannot tell which class ${pkg} exports as its client (found: ${names.join(', ') || 'none'})`,
    );
  }
  return only;
}

/**
 * Source of the smallest handler any implementation of a Lambda needs: the SDK clients it lists,
 * constructed at module scope as a real handler does, and nothing else. The handler reads them so
 * that nothing is tree-shaken away.
 */
export async function floorSource(sdkClients: readonly string[]): Promise<string> {
  const imports: string[] = [];
  const statements: string[] = [];
  const constructed: string[] = [];
  const wantsDocuments = sdkClients.includes('@aws-sdk/lib-dynamodb');
  // The document client wraps a DynamoDBClient, so listing lib-dynamodb alone still needs one.
  const packages = new Set(sdkClients.filter((pkg) => pkg !== '@aws-sdk/lib-dynamodb'));
  if (wantsDocuments) packages.add('@aws-sdk/client-dynamodb');
  for (const pkg of packages) {
    if (!pkg.startsWith('@aws-sdk/client-'))
      throw new Error(`Don't know how to construct a client from ${pkg}`);
    const className = await clientClassOf(pkg);
    const variable = `client${constructed.length}`;
    imports.push(`import { ${className} } from '${pkg}';`);
    statements.push(`const ${variable} = new ${className}({});`);
    constructed.push(variable);
    if (wantsDocuments && className === 'DynamoDBClient') {
      imports.push(`import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`);
      statements.push(`const documents = DynamoDBDocumentClient.from(${variable});`);
      constructed.push('documents');
    }
  }
  return [
    ...imports,
    ...statements,
    `export const handler = async () => ({ statusCode: 200, body: [${constructed.join(', ')}].map((c) => typeof c.send).join() });`,
    '',
  ].join('\n');
}

/** Bundles the floor handler for an entry with the same options, into `outDir/<name>.floor.js`. */
export async function bundleFloor(
  name: string,
  sdkClients: readonly string[],
  outDir: string,
): Promise<Bundle> {
  return bundle({
    stdin: {
      contents: await floorSource(sdkClients),
      resolveDir: REPO_ROOT,
      sourcefile: `${name}.floor.js`,
      loader: 'js',
    },
    outfile: join(outDir, `${name}.floor.js`),
  });
}
