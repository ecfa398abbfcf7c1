/** RFC 4180: fields holding a quote, comma or line break are quoted, quotes doubled; records end in CRLF. */
export function csvField(value: string | number | boolean | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRecord(fields: ReadonlyArray<string | number | boolean | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
