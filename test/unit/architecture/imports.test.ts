/**
 * The floors of the code, checked from its imports: ingresses on top, the protocol-neutral core in
 * the middle, the Remoting client at the bottom; nothing imports upward, no two folders import each
 * other, no file takes part in an import cycle. A new folder must be placed in FLOORS before any code
 * may import it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PROXY = join(ROOT, 'proxy/src');
const OPERATOR = join(ROOT, 'operator/src');

/** The protocol-neutral core and everything below it. */
const CORE = [
  'producer',
  'transaction',
  'consumer',
  'routing',
  'session',
  'core',
  'cluster',
  'remoting',
  'config',
];

/** Each proxy folder (or root file) and the folders it may import. */
const PROXY_FLOORS: Readonly<Record<string, readonly string[]>> = {
  remoting: [],
  config: [],
  cluster: ['remoting'],
  core: ['cluster', 'remoting'],
  session: ['core', 'cluster', 'remoting', 'config'],
  routing: ['core', 'session', 'cluster', 'remoting'],
  producer: ['core', 'session', 'cluster', 'remoting'],
  transaction: ['core', 'session', 'cluster', 'remoting'],
  consumer: ['core', 'session', 'cluster', 'remoting'],
  observability: ['config'],
  'proxy.ts': CORE,
  grpc: ['proxy.ts', ...CORE, 'observability'],
  cli: ['grpc', 'proxy.ts', 'observability', 'config'],
};

/** The wiring file that starts the ingresses; the only importer of an ingress outside it. */
const INGRESS_WIRING = 'cli/serve.ts';

const OPERATOR_FLOORS: Readonly<Record<string, readonly string[]>> = {
  runtime: [],
  api: [],
  resources: ['api'],
  controllers: ['runtime', 'resources', 'api'],
  'operator.ts': ['controllers', 'runtime', 'resources', 'api'],
  'main.ts': ['operator.ts', 'controllers', 'runtime', 'resources', 'api'],
};

interface Edge {
  readonly from: string;
  /** A path relative to the source root for local files, else the package specifier. */
  readonly to: string;
  readonly local: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file));
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function edgesOf(root: string): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(root)) {
    const from = relative(root, file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      const local = specifier.startsWith('.');
      edges.push({ from, to: local ? relative(root, resolve(dirname(file), specifier)) : specifier, local });
    }
  }
  return edges;
}

/** `grpc/server.ts` → `grpc`; a file at the root is its own floor. */
function floorOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? path : path.slice(0, slash);
}

function floorViolations(
  edges: readonly Edge[],
  floors: Readonly<Record<string, readonly string[]>>,
): string[] {
  const problems: string[] = [];
  for (const edge of edges) {
    if (!edge.local) continue;
    const from = floorOf(edge.from);
    const to = floorOf(edge.to);
    if (from === to || to.startsWith('..')) continue;
    const allowed = floors[from];
    if (allowed === undefined) problems.push(`${edge.from}: folder ${from} has no floor`);
    else if (!allowed.includes(to))
      problems.push(`${edge.from} imports ${edge.to} (${from} may not import ${to})`);
  }
  return problems;
}

/** Files on an import cycle (Tarjan's strongly connected components of more than one file). */
function cycles(edges: readonly Edge[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const edge of edges) {
    if (!edge.local) continue;
    graph.set(edge.from, [...(graph.get(edge.from) ?? []), edge.to]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('proxy import rules', () => {
  const edges = edgesOf(PROXY);

  test('the parser sees the imports (a rule over no edges proves nothing)', () => {
    assert.ok(edges.some((edge) => edge.from === 'grpc/server.ts' && edge.to === '@grpc/grpc-js'));
    assert.ok(edges.some((edge) => edge.from === 'proxy.ts' && edge.to === 'remoting/pool.ts'));
  });

  test('only the gRPC ingress (and the wiring that starts it) imports grpc-js, the generated code or grpc/', () => {
    const leaks = edges
      .filter((edge) => floorOf(edge.from) !== 'grpc' && edge.from !== INGRESS_WIRING)
      .filter(
        (edge) =>
          edge.to === '@grpc/grpc-js' ||
          edge.to.startsWith('@grpc/') ||
          (edge.local && (edge.to.startsWith('../gen/') || floorOf(edge.to) === 'grpc')),
      )
      .map((edge) => `${edge.from} imports ${edge.to}`);
    assert.deepEqual(leaks, []);
  });

  test('every folder imports only the floors below it', () => {
    assert.deepEqual(floorViolations(edges, PROXY_FLOORS), []);
  });

  test('no import cycles', () => {
    assert.deepEqual(cycles(edges), []);
  });
});

describe('operator import rules', () => {
  const edges = edgesOf(OPERATOR);

  test('the runtime knows no RocketMQProxy: it imports nothing of api/, resources/ or controllers/', () => {
    assert.deepEqual(floorViolations(edges, OPERATOR_FLOORS), []);
  });

  test('no import cycles', () => {
    assert.deepEqual(cycles(edges), []);
  });
});

describe('the rules themselves', () => {
  test('an upward import and a cycle are caught', () => {
    const bad: Edge[] = [
      { from: 'remoting/pool.ts', to: 'grpc/status.ts', local: true },
      { from: 'grpc/status.ts', to: 'remoting/pool.ts', local: true },
    ];
    assert.deepEqual(floorViolations(bad, PROXY_FLOORS), [
      'remoting/pool.ts imports grpc/status.ts (remoting may not import grpc)',
    ]);
    assert.deepEqual(cycles(bad), [['grpc/status.ts', 'remoting/pool.ts']]);
  });
});
