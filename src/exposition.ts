/**
 * The two text formats Prometheus scrapes: OpenMetrics 1.0 and the older
 * Prometheus text format 0.0.4. They differ only in the `# TYPE` name of a
 * counter (the family, or the sample's `_total` name), and in OpenMetrics'
 * closing `# EOF`; samples are written the same way in both. Label values
 * are escaped as both specify: backslash, double quote and line feed; every
 * other character, non-ASCII included, is written as it is (UTF-8).
 */

/** Which text format a scrape is written in. */
export type MetricsFormat = 'openmetrics' | 'prometheus';

/**
 * The Content-Type of each format, as Prometheus expects it.
 * @example
 * ```ts
 * import { CONTENT_TYPES, metrics } from 'iptc-node';
 * const headers = { 'content-type': CONTENT_TYPES.openmetrics };
 * const body = await metrics({ format: 'openmetrics' });
 * ```
 */
export const CONTENT_TYPES: Readonly<Record<MetricsFormat, string>> = Object.freeze({
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
});

/**
 * A label value as both formats write it between double quotes.
 * @example
 * ```ts
 * import { escapeLabelValue } from 'iptc-node';
 * const line = `my_metric{comment="${escapeLabelValue('say "hi"')}"} 1`; // my_metric{comment="say \"hi\""} 1
 * ```
 */
export function escapeLabelValue(v: string): string {
  // Most values need nothing: test before the three replacements.
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** `{a="x",b="y"}` for a label set, in its key order. @internal */
export function labelText(labels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const k in labels) parts.push(`${k}="${escapeLabelValue(labels[k]!)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/**
 * The `# HELP` and `# TYPE` lines of a metric family. `name` is the family
 * name (without `_total` for a counter).
 * @internal
 */
export function familyHead(format: MetricsFormat, name: string, type: 'counter' | 'gauge', help: string): string {
  const typed = format === 'prometheus' && type === 'counter' ? `${name}_total` : name;
  return `# HELP ${typed} ${help}\n# TYPE ${typed} ${type}\n`;
}

/**
 * The format an HTTP client asks for in its Accept header: OpenMetrics when
 * it ranks `application/openmetrics-text` at least as high as `text/plain`
 * (Prometheus 2.x sends both, OpenMetrics first), else the 0.0.4 text.
 * @example
 * ```ts
 * import { negotiateFormat } from 'iptc-node';
 * negotiateFormat('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'); // 'openmetrics'
 * negotiateFormat(undefined); // 'prometheus'
 * ```
 */
export function negotiateFormat(accept: string | undefined): MetricsFormat {
  if (!accept) return 'prometheus';
  let om = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, type === 'text/plain' ? q : q * 0.999);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus';
}
