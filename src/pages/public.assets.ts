import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The top-level `public/` folder, found from this file's location by walking up to the package
 * root: the same from src/ (jest, tsx) and from dist/src/ after `npm run build`.
 */
export function publicDirectory(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the pages slice');
    dir = parent;
  }
  return join(dir, 'public');
}

/** Files read once and kept: a handful of small assets, served from memory. */
export class PublicAssets {
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly directory: string = publicDirectory()) {}

  read(name: 'pages.css' | 'pages.js' | 'two-factor-prompt.js' | 'console.css' | 'console.js'): Buffer {
    let file = this.cache.get(name);
    if (!file) {
      file = readFileSync(join(this.directory, name));
      this.cache.set(name, file);
    }
    return file;
  }
}
