import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

/**
 * The host SDK (sdk/) is what a host installs: it must not reach into the service (src/), and at
 * run time it may need only jose and Node's built-ins. Framework packages are types only.
 */
const SDK = join(process.cwd(), 'sdk');
const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/gm;
const RUNTIME_PACKAGES = ['jose'];
const TYPE_ONLY_PACKAGES = ['fastify', '@nestjs/common'];

interface Found {
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

function importsOf(file: string): Found[] {
  const text = readFileSync(join(SDK, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => ({ file, specifier: (m[3] ?? m[4] ?? m[5])!, typeOnly: m[2] !== undefined }));
}

function allowed({ specifier, typeOnly }: Found): boolean {
  if (specifier.startsWith('./')) return !specifier.includes('..');
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return true;
  if (RUNTIME_PACKAGES.includes(specifier)) return true;
  return typeOnly && TYPE_ONLY_PACKAGES.includes(specifier);
}

describe('the host SDK imports', () => {
  const files = readdirSync(SDK).filter((name) => name.endsWith('.ts'));

  it('has an entry point and its modules', () => {
    expect(files).toContain('two-factor-sdk.ts');
    expect(files.length).toBeGreaterThan(5);
  });

  it('reach nothing of the service, and at run time only jose and Node built-ins', () => {
    const found = files.flatMap(importsOf);
    expect(found.length).toBeGreaterThan(10);
    expect(found.filter((f) => !allowed(f))).toEqual([]);
  });

  it('the scan itself refuses what the rule forbids', () => {
    expect(allowed({ file: 'x.ts', specifier: '../src/kernel/ids.js', typeOnly: false })).toBe(false);
    expect(allowed({ file: 'x.ts', specifier: 'fastify', typeOnly: false })).toBe(false);
    expect(allowed({ file: 'x.ts', specifier: 'express', typeOnly: true })).toBe(false);
    expect(allowed({ file: 'x.ts', specifier: 'fastify', typeOnly: true })).toBe(true);
    expect(allowed({ file: 'x.ts', specifier: 'node:crypto', typeOnly: false })).toBe(true);
  });
});
