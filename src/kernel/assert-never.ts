/**
 * The end of every exhaustive switch over a discriminated union: a compile error when a variant is
 * added and not handled, and a loud failure if one arrives at runtime anyway. The message names
 * only the variant's `type`/`kind`, never its contents (which may hold encrypted or personal data).
 */
export function assertNever(value: never): never {
  const tag = (value as { type?: unknown; kind?: unknown; status?: unknown } | null) ?? {};
  throw new Error(`unhandled variant ${String(tag.type ?? tag.kind ?? tag.status ?? typeof value)}`);
}
