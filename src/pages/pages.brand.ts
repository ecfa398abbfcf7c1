import type { Config } from '../config/config.js';

/** What the pages need from the configuration, resolved once. */
export interface Brand {
  readonly productName: string;
  readonly color: string;
  /** Text on the brand colour: white or near-black, whichever contrasts more. */
  readonly onColor: string;
  /** The brand colour darkened until it reads on white (WCAG AA, 4.5:1), for links and focus rings. */
  readonly textColor: string;
  readonly logoUrl: string | null;
  readonly supportUrl: string | null;
}

export function brandOf(config: Config): Brand {
  const color = config.BRAND_COLOR.toLowerCase();
  return {
    productName: config.PRODUCT_NAME,
    color,
    onColor: contrast(color, '#ffffff') >= contrast(color, '#111827') ? '#ffffff' : '#111827',
    textColor: readableOnWhite(color),
    logoUrl: config.LOGO_URL ?? null,
    supportUrl: (config.SUPPORT_URL as string | undefined) ?? null,
  };
}

/** The stylesheet of the brand's custom properties, served as a file (the CSP allows no inline style). */
export function brandStylesheet(brand: Brand): string {
  return `:root{--brand:${brand.color};--on-brand:${brand.onColor};--brand-text:${brand.textColor};}\n`;
}

function readableOnWhite(color: string): string {
  let [r, g, b] = channels(color);
  for (let step = 0; step < 40 && contrast(hex(r, g, b), '#ffffff') < 4.5; step++) [r, g, b] = [r * 0.9, g * 0.9, b * 0.9];
  return hex(r, g, b);
}

function channels(color: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)) as [number, number, number];
}

function hex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG 2 contrast ratio. */
function contrast(a: string, b: string): number {
  const [la, lb] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (la + 0.05) / (lb + 0.05);
}

function luminance(color: string): number {
  const [r, g, b] = channels(color).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
