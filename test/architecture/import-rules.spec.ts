import { join } from 'node:path';
import { layerOf, readSourceTree, relativeImports, violations, type SourceFile } from './import-rules.js';

const SRC = join(process.cwd(), 'src');

describe('the dependency rule of src/', () => {
  it('holds for every file', () => {
    const tree = readSourceTree(SRC);
    expect(tree.length).toBeGreaterThan(100);
    expect(violations(tree)).toEqual([]);
  });

  it('puts every folder in a layer', () => {
    for (const file of readSourceTree(SRC)) expect(() => layerOf(file.path)).not.toThrow();
  });
});

describe('the import scan itself', () => {
  const file = (path: string, ...imports: string[]): SourceFile => ({
    path,
    text: imports.map((specifier, i) => `import { x${i} } from '${specifier}';`).join('\n'),
  });

  it('reads static, type-only, side-effect and dynamic imports', () => {
    const text = [
      "import type { A } from '../ports/a.port.js';",
      "import { B,\n  C } from './b.js';",
      "import './side-effect.js';",
      "const m = await import('../infrastructure/d.js');",
      "import { z } from 'zod';",
    ].join('\n');
    expect(relativeImports(text)).toEqual(['../ports/a.port.js', './b.js', './side-effect.js', '../infrastructure/d.js']);
  });

  it.each([
    ['kernel may not import ports', file('kernel/decider.ts', '../ports/event-store.port.js')],
    ['ports may not import infrastructure', file('ports/read-store.port.ts', '../infrastructure/read-store/sqlite.read-store.js')],
    ['slice may not import http', file('organisations/organisation.queries.ts', '../http/problem.js')],
    ['slice may not import infrastructure', file('two-factor/two-factor.flows.ts', '../infrastructure/crypto/master-key.js')],
    ['infrastructure may not import projections', file('infrastructure/event-store/sqlite.event-store.ts', '../../projections/projection.js')],
    ['infrastructure may not import slice', file('infrastructure/mail/nodemailer.mailer.ts', '../../reminders/reminder.email.js')],
    ['infrastructure may not import http', file('infrastructure/runtime.ts', '../http/token-verifier.js')],
    ['http may not import runtime', file('http/auth.guard.ts', '../runtime/runtime.js')],
    ['projections may not import slice', file('projections/projection.runner.ts', '../organisations/directory.projection.js')],
  ])('refuses: %s', (rule, source) => {
    expect(violations([source])).toEqual([expect.objectContaining({ rule })]);
  });

  it('lets a slice controller use the HTTP edge, and the composition root use everything', () => {
    expect(violations([file('organisations/organisations.controller.ts', '../http/validation.js')])).toEqual([]);
    expect(violations([file('audit/audit.params.ts', '../http/id-param.js')])).toEqual([]);
    expect(violations([file('runtime/runtime.factory.ts', '../infrastructure/crypto/master-key.js', '../reminders/reminder.sender.js', '../http/token-verifier.js')])).toEqual([]);
  });

  it('names a folder outside every layer', () => {
    expect(() => layerOf('widgets/widget.ts')).toThrow(/belongs to no layer/);
  });
});
