/** Plain-text tables for the CLI; colour only when writing to a terminal. */

export interface Style {
  readonly color: boolean;
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

export function paint(style: Style, color: keyof typeof CODES, text: string): string {
  return style.color ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colour codes paint() adds
const ANSI = /\u001b\[\d+m/g;

function width(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Left-aligned columns separated by two spaces; the header row is underlined with dashes. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function statusColor(status: string): keyof typeof CODES {
  if (status === 'healthy') return 'green';
  if (status === 'degraded' || status === 'draining') return 'yellow';
  return 'red';
}

/** A routing decision as the API answers it (POST /v1/route, and a handoff's `decision`). */
interface DecisionView {
  readonly candidates: readonly {
    readonly region: string;
    readonly score: number;
    readonly latency_ms?: number;
    readonly factors: { capacity: number; latency: number; compliance: number; cost: number };
  }[];
  readonly excluded: readonly { readonly region: string; readonly reasons: readonly string[] }[];
}

/**
 * A decision's candidates as a table (with each one's round trip when `rtt`), then every excluded
 * region with its reasons; nothing for an empty part.
 */
export function decisionLines(decision: DecisionView, options: { readonly rtt?: boolean } = {}): string[] {
  const lines: string[] = [];
  if (decision.candidates.length > 0) {
    const head = ['CANDIDATE', 'SCORE', 'CAPACITY', 'LATENCY', 'COMPLIANCE', 'COST'];
    lines.push(
      '',
      table(
        options.rtt ? [...head, 'RTT'] : head,
        decision.candidates.map((c) => {
          const { capacity, latency, compliance, cost } = c.factors;
          const row = [c.region, ...[c.score, capacity, latency, compliance, cost].map(String)];
          return options.rtt ? [...row, `${c.latency_ms} ms`] : row;
        }),
      ),
    );
  }
  if (decision.excluded.length > 0) {
    lines.push('', 'excluded:');
    for (const e of decision.excluded) lines.push(`  ${e.region}: ${e.reasons.join('; ')}`);
  }
  return lines;
}
