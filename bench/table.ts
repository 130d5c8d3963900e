/* Prints benchmark results as a Markdown table (the README's performance section takes it as is). */

export interface BenchRow {
	readonly benchmark: string;
	readonly result: string;
	readonly criterion: string;
	/** "ok", "over" or "-" (no criterion). */
	readonly verdict: string;
}

export function formatTable(rows: readonly BenchRow[]): string {
	const header: BenchRow = {benchmark: "benchmark", result: "result", criterion: "criterion", verdict: "verdict"};
	const keys = ["benchmark", "result", "criterion", "verdict"] as const;
	const widths = keys.map(key => Math.max(...[header, ...rows].map(row => row[key].length)));
	const line = (row: BenchRow) => `| ${keys.map((key, i) => row[key].padEnd(widths[i])).join(" | ")} |`;
	return [line(header), `|${widths.map(width => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function kib(bytes: number): string {
	return `${(bytes / 1024).toFixed(1)} KB`;
}

export function thousands(value: number): string {
	return Math.round(value).toLocaleString("en-US");
}
