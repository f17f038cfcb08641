/**
 * The one table helper: every human listing and every "show" (a two-column
 * table of field and value) goes through it, so all output aligns the same way.
 */

/**
 * Values come from the controller; a control character in one (a newline, an
 * escape sequence) would break the columns or drive the terminal, so each is
 * shown as "?". The model already refuses them in names; this is the last guard.
 */
function clean(cell: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  return cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Columns separated by two spaces, padded to the widest cell; the last column
 * is not padded so lines carry no trailing spaces. `empty` is printed instead
 * of a header with no rows (a bare header reads like a mistake).
 */
export function table(
  rows: readonly (readonly string[])[],
  options: { header?: readonly string[]; empty?: string } = {},
): string {
  if (rows.length === 0 && options.empty !== undefined) return `${options.empty}\n`;
  const all = (options.header ? [options.header, ...rows] : rows).map((r) => r.map(clean));
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return (
    all
      .map((row) =>
        row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number))).join('  '),
      )
      .join('\n') + '\n'
  );
}

/** A field/value table for one entity. */
export function details(fields: readonly (readonly [string, string])[]): string {
  return table(fields.map(([k, v]) => [`${k}:`, v]));
}

/** null/undefined/empty as "-" so a column never looks shifted. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(String).join(',');
  return String(value);
}

/** Milliseconds since the epoch as ISO time, or "never". */
export function time(ms: number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : 'never';
}
