/**
 * A minimal Prometheus text exposition (format 0.0.4). Label values are route templates and
 * status codes only, never ids from the URL, so cardinality stays bounded.
 */
export class MetricsRegistry {
  private readonly counters = new Map<string, { help: string; values: Map<string, number> }>();
  private readonly gauges = new Map<string, { help: string; read: () => number | null }>();

  counter(name: string, help: string): (labels: Readonly<Record<string, string>>) => void {
    const metric = { help, values: new Map<string, number>() };
    this.counters.set(name, metric);
    return (labels) => {
      const key = formatLabels(labels);
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

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
