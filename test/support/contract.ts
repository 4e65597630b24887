/**
 * The OpenAPI document as a checker of real answers. Every response the e2e suites receive goes
 * through `check` (test/support/api.ts calls it on each request), so an answer the document does
 * not describe — an unknown operation, an undocumented status, a field the schema leaves out, a
 * missing required header — fails the test that received it, naming the operation, the status
 * and ajv's errors. The document cannot drift from the server without a red test.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../lambdas/http/openapi';

type JsonSchema = Record<string, unknown>;

interface DocumentedResponse {
  readonly headers?: Record<string, { required?: boolean }>;
  readonly content?: Record<string, { schema?: JsonSchema }>;
}

interface DocumentedOperation {
  readonly parameters?: { name: string; in: string; required?: boolean }[];
  readonly responses: Record<string, DocumentedResponse>;
}

export interface OpenApiDocumentShape {
  readonly paths: Record<string, Record<string, DocumentedOperation>>;
  readonly components?: { readonly schemas?: Record<string, JsonSchema> };
}

const COMPONENTS = 'https://contract.test/components/';

/** `#/components/schemas/X` points into the OpenAPI document; ajv gets each component under its own id. */
function withComponentRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withComponentRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')
        ? [key, `${COMPONENTS}${value.slice('#/components/schemas/'.length)}`]
        : [key, withComponentRefs(value)],
    ),
  );
}

/** One request and its answer, as the e2e client saw them. */
export interface Exchange {
  readonly method: string;
  /** As requested: the path, maybe with a query string. */
  readonly path: string;
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export class ContractViolation extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly problems: readonly string[],
  ) {
    super(
      `The answer does not match the OpenAPI document — ${operation} → ${status}:\n  ${problems.join('\n  ')}`,
    );
    this.name = 'ContractViolation';
  }
}

interface CompiledOperation {
  readonly key: string;
  readonly pattern: RegExp;
  /** Literal segments win over parameters (`/agents/provision` before `/agents/{id}`), as on API Gateway. */
  readonly literalSegments: number;
  readonly operation: DocumentedOperation;
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const where = error.instancePath || '(body)';
    const extra =
      error.keyword === 'additionalProperties'
        ? ` '${(error.params as { additionalProperty: string }).additionalProperty}'`
        : error.keyword === 'enum'
          ? ` ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`
          : '';
    return `${where} ${error.message ?? error.keyword}${extra}`;
  });
}

const mediaTypeOf = (contentType: string | null) => (contentType ?? '').split(';')[0]?.trim().toLowerCase();

/**
 * The document's response schemas, compiled with ajv (JSON Schema 2020-12, as in OpenAPI 3.1)
 * each once, on first use (`compileAll` compiles them all: the document's own check).
 */
export class Contract {
  private readonly operations: CompiledOperation[] = [];
  // strict: a schema keyword or format ajv does not know is an error in the document, not ignored.
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document: OpenApiDocumentShape) {
    const ajv = this.ajv;
    addFormats(ajv);
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
      ajv.addSchema(withComponentRefs(schema) as JsonSchema, `${COMPONENTS}${name}`);
    }
    for (const [path, methods] of Object.entries(document.paths)) {
      const source = path
        .split('/')
        .map((segment) =>
          /^\{\w+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      for (const [method, operation] of Object.entries(methods)) {
        this.operations.push({
          key: `${method.toUpperCase()} ${path}`,
          pattern: new RegExp(`^${source}$`),
          literalSegments: path.split('/').filter((segment) => !segment.startsWith('{')).length,
          operation,
        });
      }
    }
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Compiles every documented JSON response schema; throws naming the first that does not compile. */
  compileAll(): number {
    let count = 0;
    for (const { key, operation } of this.operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const mediaType of Object.keys(response.content ?? {})) {
          if (this.validatorFor(key, operation, status, mediaType)) count++;
        }
      }
    }
    return count;
  }

  private validatorFor(
    key: string,
    operation: DocumentedOperation,
    status: string,
    mediaType: string,
  ): ValidateFunction | undefined {
    const schema = operation.responses[status]?.content?.[mediaType]?.schema;
    if (!schema || !mediaType.endsWith('json')) return undefined;
    const id = `${key} ${status} ${mediaType}`;
    let validate = this.validators.get(id);
    if (!validate) {
      try {
        validate = this.ajv.compile(withComponentRefs(schema) as JsonSchema);
      } catch (error) {
        throw new Error(`${key} → ${status}: the documented schema does not compile: ${error}`);
      }
      this.validators.set(id, validate);
    }
    return validate;
  }

  /** The documented operation a request lands on (`METHOD /template`), if any. */
  operationKeyFor(method: string, path: string): string | undefined {
    return this.find(method, path)?.key;
  }

  private find(method: string, path: string): CompiledOperation | undefined {
    const pathname = path.split('?')[0] ?? '';
    return this.operations.find(
      (candidate) => candidate.key.startsWith(`${method.toUpperCase()} `) && candidate.pattern.test(pathname),
    );
  }

  /** Throws a `ContractViolation` unless the document describes this answer to this request. */
  check(exchange: Exchange): void {
    const requested = `${exchange.method.toUpperCase()} ${exchange.path.split('?')[0]}`;
    const compiled = this.find(exchange.method, exchange.path);
    if (!compiled) {
      throw new ContractViolation(requested, exchange.status, [
        'no operation in the document matches this request',
      ]);
    }
    const status = String(exchange.status);
    const response = compiled.operation.responses[status];
    if (!response) {
      throw new ContractViolation(compiled.key, exchange.status, [
        `status ${status} is not documented (documented: ${Object.keys(compiled.operation.responses).join(', ')})`,
        `body: ${exchange.text.slice(0, 500)}`,
      ]);
    }
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      if (header.required && !exchange.headers.has(name)) problems.push(`required header ${name} is missing`);
    }
    if (exchange.status < 300) {
      // A request the server accepted must have carried what the document says is required.
      const sent = new Set(Object.keys(exchange.requestHeaders).map((name) => name.toLowerCase()));
      for (const parameter of compiled.operation.parameters ?? []) {
        if (parameter.in === 'header' && parameter.required && !sent.has(parameter.name.toLowerCase())) {
          problems.push(`accepted without the header ${parameter.name}, which the document says is required`);
        }
      }
    }
    const mediaTypes = Object.keys(response.content ?? {});
    if (mediaTypes.length === 0) {
      if (exchange.text !== '')
        problems.push(`a body is not documented, got: ${exchange.text.slice(0, 200)}`);
    } else {
      const mediaType = mediaTypeOf(exchange.headers.get('content-type')) ?? '';
      if (!mediaTypes.includes(mediaType)) {
        problems.push(`content type ${mediaType || '(none)'} is not documented (${mediaTypes.join(', ')})`);
      } else {
        const validate = this.validatorFor(compiled.key, compiled.operation, status, mediaType);
        if (validate) {
          let body: unknown;
          try {
            body = JSON.parse(exchange.text);
          } catch {
            problems.push(`the body is not JSON: ${exchange.text.slice(0, 200)}`);
          }
          if (problems.length === 0 && !validate(body)) problems.push(...describeErrors(validate.errors));
        }
      }
    }
    if (problems.length > 0) throw new ContractViolation(compiled.key, exchange.status, problems);
  }
}

let shared: Contract | undefined;

/**
 * The contract the e2e client checks against: the served document plus the local-mode aids
 * (`localOnly` routes such as `GET /v1/dev/outbox`, marked `x-local-only`), which local mode serves
 * and the deployed API does not.
 */
export function apiContract(): Contract {
  shared ??= new Contract(
    buildOpenApiDocument(undefined, { includeLocalOnly: true }) as unknown as OpenApiDocumentShape,
  );
  return shared;
}
