/**
 * A minimal Prometheus text exposition (format 0.0.4). Label values are route templates and
 * status codes only, never ids from the URL, so cardinality stays bounded.
 */
export class MetricsRegistry {
  private readonly counters = new Map<string, { help: string; values: Map<string, number> }>();
  private readonly gauges = new Map<string, { help: string; read: () => number | null }>();

  /**
   * A counter with the given label names; the returned function counts one for the label values
   * (in the order of the names). Each combination's exposition text is built once, on its first
   * count: counting is on every request's path.
   */
  counter(name: string, help: string, labelNames: readonly string[]): (...values: ReadonlyArray<string | number>) => void {
    const metric = { help, values: new Map<string, number>() };
    this.counters.set(name, metric);
    const seen: LabelTrie = new Map();
    return (...values) => {
      let node = seen;
      for (let i = 0; i < values.length - 1; i++) {
        let next = node.get(values[i]!) as LabelTrie | undefined;
        if (next === undefined) node.set(values[i]!, (next = new Map()));
        node = next;
      }
      let key = node.get(values[values.length - 1]!) as string | undefined;
      if (key === undefined) node.set(values[values.length - 1]!, (key = formatLabels(labelNames, values)));
      metric.values.set(key, (metric.values.get(key) ?? 0) + 1);
    };
  }

  gauge(name: string, help: string, read: () => number | null): void {
    this.gauges.set(name, { help, read });
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, metric] of this.counters) {
      lines.push(`# HELP ${name} ${metric.help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of metric.values) lines.push(`${name}${labels} ${value}`);
    }
    for (const [name, metric] of this.gauges) {
      const value = metric.read();
      if (value === null) continue;
      lines.push(`# HELP ${name} ${metric.help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

type LabelTrie = Map<string | number, LabelTrie | string>;

function formatLabels(names: readonly string[], values: ReadonlyArray<string | number>): string {
  const parts = names.map((name, i) => `${name}="${String(values[i]).replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
