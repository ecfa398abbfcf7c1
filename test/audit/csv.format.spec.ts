import fc from 'fast-check';
import { csvField, csvRecord } from '../../src/audit/csv.format.js';

/** Reads one RFC 4180 record back into its fields (enough of a parser to check the round trip). */
function parseRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i += 1;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') { field += '"'; i += 2; }
        else if (line[i] === '"') { i += 1; break; }
        else { field += line[i]; i += 1; }
      }
    } else {
      while (i < line.length && line[i] !== ',' && !(line[i] === '\r' && line[i + 1] === '\n')) { field += line[i]; i += 1; }
    }
    fields.push(field);
    if (line[i] === ',') { i += 1; continue; }
    return fields;
  }
}

describe('CSV fields', () => {
  it('quotes fields holding a quote, comma or line break and doubles quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(12)).toBe('12');
    expect(csvField(true)).toBe('true');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+cmd|calc', `"'+1+cmd|calc"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\t=1+1', `"'\t=1+1"`],
    ['\r=1+1', `"'\r=1+1"`],
  ])('neutralises text a spreadsheet would read as a formula: %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('writes numbers as numbers, even negative ones', () => {
    expect(csvField(-5)).toBe('-5');
  });

  it('never lets a text cell start with a formula character, and keeps the text readable', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 5 }), (values) => {
        const line = csvRecord(values);
        const parsed = parseRecord(line);
        expect(parsed).toHaveLength(values.length);
        parsed.forEach((cell, index) => {
          expect(cell).not.toMatch(/^[=+\-@\t\r]/);
          const value = values[index]!;
          expect(cell).toBe(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
        });
      }),
    );
  });
});
