import { join, resolve, sep } from 'node:path';
import { readSourceTree, relativeImports } from './import-rules.js';

/**
 * The demo host shows what a host application needs: the SDK and nothing of the service. Only
 * the launcher beside it (examples/demo*.ts) may start the service from src/.
 */
describe('the demo host', () => {
  it('imports nothing of the service, only the SDK and its own files', () => {
    const root = join(process.cwd(), 'examples', 'demo-host');
    const allowed = [root + sep, join(process.cwd(), 'sdk') + sep];
    const files = readSourceTree(root);
    expect(files.length).toBeGreaterThan(3);
    const outside = files.flatMap((file) =>
      relativeImports(file.text)
        .map((specifier) => ({ file: file.path, specifier, target: resolve(root, file.path, '..', specifier) }))
        .filter(({ target }) => !allowed.some((prefix) => target.startsWith(prefix))),
    );
    expect(outside).toEqual([]);
  });
});
