import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const REPO_ROOT = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name);
    if (item.isDirectory()) return sourceFiles(path);
    return item.name.endsWith('.ts') && !item.name.endsWith('.test.ts') ? [path] : [];
  });
}

interface Import {
  readonly target: string;
  /** `import type` / `export type`: erased at build time. */
  readonly typeOnly: boolean;
}

/** Every relative module a file imports, requires or dynamically imports, resolved to a path. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    if (!specifier.startsWith('.')) return;
    const base = resolve(dirname(file), specifier);
    const target = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
    found.push({ target: target ?? base, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.importClause?.isTypeOnly ?? false);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      // `typeof import('…')`: a type position, erased.
      const literal = node.argument;
      if (ts.isLiteralTypeNode(literal) && ts.isStringLiteral(literal.literal))
        add(literal.literal.text, true);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const inside = (folder: string, file: string) => !relative(join(REPO_ROOT, folder), file).startsWith('..');
const PRODUCTION = sourceFiles(join(REPO_ROOT, 'lambdas'));
const LOCAL_ADAPTERS = 'lambdas/adapters/local';

describe('the runtime code under lambdas/', () => {
  it('is found (the checks below are not vacuous)', () => {
    expect(PRODUCTION.length).toBeGreaterThan(100);
    expect(PRODUCTION.some((file) => inside('lambdas/composition', file))).toBe(true);
  });

  it('never imports local mode (local/), not even a type: local mode injects its stand-ins', () => {
    const offending = PRODUCTION.flatMap((file) =>
      importsOf(file)
        .filter((edge) => inside('local', edge.target))
        .map((edge) => `${relative(REPO_ROOT, file)} -> ${relative(REPO_ROOT, edge.target)}`),
    );
    expect(offending).toEqual([]);
  });

  it(`loads the local stand-ins (${LOCAL_ADAPTERS}) only through local mode: elsewhere, types only`, () => {
    const offending = PRODUCTION.filter((file) => !inside(LOCAL_ADAPTERS, file)).flatMap((file) =>
      importsOf(file)
        .filter((edge) => !edge.typeOnly && inside(LOCAL_ADAPTERS, edge.target))
        .map((edge) => `${relative(REPO_ROOT, file)} -> ${relative(REPO_ROOT, edge.target)}`),
    );
    expect(offending).toEqual([]);
  });

  it('builds table clients in one place, composition/table.ts (where tenant-scoped credentials plug in)', () => {
    const documentClient = join(REPO_ROOT, 'lambdas/adapters/dynamodb/document-client.ts');
    const importers = PRODUCTION.filter((file) =>
      importsOf(file).some((edge) => !edge.typeOnly && edge.target === documentClient),
    ).map((file) => relative(REPO_ROOT, file));
    expect(importers).toEqual(['lambdas/composition/table.ts']);
  });

  it('lets no handler build its own dependencies: no table client, repository or environment parsing outside composition/', () => {
    const handlers = PRODUCTION.filter(
      (file) => inside('lambdas/handlers', file) && !file.endsWith('.test.ts'),
    );
    expect(handlers.length).toBeGreaterThan(10);
    const building = [
      join(REPO_ROOT, 'lambdas/composition/table.ts'),
      join(REPO_ROOT, 'lambdas/composition/environment.ts'),
    ];
    const offending = handlers.flatMap((file) =>
      importsOf(file)
        .filter(
          (edge) =>
            !edge.typeOnly &&
            (building.includes(edge.target) || inside('lambdas/adapters/dynamodb', edge.target)),
        )
        .map((edge) => `${relative(REPO_ROOT, file)} -> ${relative(REPO_ROOT, edge.target)}`),
    );
    expect(offending).toEqual([]);
  });

  it('has no import cycle (value imports), local mode included', () => {
    const graph = new Map(
      [...PRODUCTION, ...sourceFiles(join(REPO_ROOT, 'local'))].map((file) => [
        file,
        importsOf(file)
          .filter((edge) => !edge.typeOnly)
          .map((edge) => edge.target),
      ]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') {
          const cycle = [...path.slice(path.indexOf(next)), next];
          cycles.push(cycle.map((step) => relative(REPO_ROOT, step)).join(' -> '));
        } else if (!state.has(next) && graph.has(next)) {
          walk(next, [...path, next]);
        }
      }
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) walk(file, [file]);
    expect(cycles).toEqual([]);
  });
});
