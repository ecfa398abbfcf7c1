/**
 * HTML that escapes by default. Every value interpolated into `html\`…\`` is escaped unless it is
 * itself the result of `html` or was wrapped in `trusted()` (our own SVG and markup only: never a
 * value that came from a request, a token, a store or the configuration). Arrays are joined.
 */
const TRUSTED = Symbol('trusted-html');

export interface Html {
  readonly [TRUSTED]: string;
}

export type Interpolated = Html | string | number | boolean | null | undefined | readonly Interpolated[];

export function html(strings: TemplateStringsArray, ...values: readonly Interpolated[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return { [TRUSTED]: out };
}

/** Marks markup we produced (the QR code SVG of the flows, our icons) as safe to insert as is. */
export function trusted(markup: string): Html {
  return { [TRUSTED]: markup };
}

export function toHtmlString(value: Html): string {
  return value[TRUSTED];
}

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'object') return TRUSTED in value ? (value as Html)[TRUSTED] : escapeHtml(String(value));
  return escapeHtml(String(value));
}

/** Safe in element content and in double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}
