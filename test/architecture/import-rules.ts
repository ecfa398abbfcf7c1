import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * Who may import whom inside src/ (docs/architecture.md, "Dependency rule"). The layer of a
 * file is its first folder under src/; files directly under src/ are entry points.
 */
export type Layer = 'kernel' | 'ports' | 'application' | 'projections' | 'config' | 'http' | 'infrastructure' | 'slice' | 'runtime' | 'entry';

export const SLICES = ['organisations', 'two-factor', 'enforcement', 'reminders', 'audit', 'health', 'personal-data', 'pages'] as const;

const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  kernel: ['kernel'],
  ports: ['kernel', 'ports'],
  config: ['config'],
  application: ['kernel', 'ports', 'application'],
  projections: ['kernel', 'ports', 'application', 'projections'],
  http: ['kernel', 'ports', 'application', 'projections', 'config', 'http'],
  infrastructure: ['kernel', 'ports', 'config', 'infrastructure'],
  // A slice's HTTP surface (controllers and their parameter schemas) may use http/; the rest of it may not.
  slice: ['kernel', 'ports', 'application', 'projections', 'config', 'slice'],
  runtime: ['kernel', 'ports', 'application', 'projections', 'config', 'http', 'infrastructure', 'slice', 'runtime'],
  entry: ['kernel', 'ports', 'application', 'projections', 'config', 'http', 'infrastructure', 'slice', 'runtime', 'entry'],
};

const HTTP_SURFACE = /\.(controller|params)\.ts$/;

export interface SourceFile {
  /** Path relative to src/, with forward slashes. */
  readonly path: string;
  readonly text: string;
}

export interface Violation {
  readonly file: string;
  readonly imports: string;
  readonly rule: string;
}

export function layerOf(path: string): Layer {
  const [first, ...rest] = path.split('/');
  if (rest.length === 0) return 'entry';
  if ((SLICES as readonly string[]).includes(first!)) return 'slice';
  const known: readonly string[] = ['kernel', 'ports', 'application', 'projections', 'config', 'http', 'infrastructure', 'runtime'];
  if (known.includes(first!)) return first as Layer;
  throw new Error(`src/${first}/ belongs to no layer: add it to test/architecture/import-rules.ts and docs/architecture.md`);
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

export function relativeImports(text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((m) => m[1]!);
}

export function violations(files: readonly SourceFile[]): Violation[] {
  const found: Violation[] = [];
  for (const file of files) {
    const from = layerOf(file.path);
    for (const specifier of relativeImports(file.text)) {
      const target = join(dirname(file.path), specifier).split(sep).join('/');
      if (target.startsWith('..')) {
        found.push({ file: file.path, imports: specifier, rule: 'src/ imports nothing outside src/' });
        continue;
      }
      const to = layerOf(target);
      if (from === 'slice' && to === 'http' && HTTP_SURFACE.test(file.path)) continue;
      if (!MAY_IMPORT[from].includes(to)) found.push({ file: file.path, imports: specifier, rule: `${from} may not import ${to}` });
    }
  }
  return found;
}

export function readSourceTree(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push({ path: relative(root, path).split(sep).join('/'), text: readFileSync(path, 'utf8') });
    }
  };
  walk(resolve(root));
  return files;
}
