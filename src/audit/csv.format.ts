/**
 * A text cell a spreadsheet would read as a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@`,
 * or a tab or carriage return that some spreadsheets strip before looking for one of those.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180: fields holding a quote, comma or line break are quoted, quotes doubled; records end in CRLF.
 * Text that would start a formula (an organisation name, a reason, an id chosen by a caller) gets a
 * leading single quote and is always quoted, so a spreadsheet shows it as text instead of running it.
 * Numbers are written as numbers: a negative number is data, not a formula.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) return quoted(`'${text}`);
  return /[",\r\n]/.test(text) ? quoted(text) : text;
}

function quoted(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

export function csvRecord(fields: ReadonlyArray<string | number | boolean | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
