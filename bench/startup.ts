/*
 * Benchmark 11: how long `rainmaker-ota-xs node --help` takes from the start of the process to its
 * exit, before (the TypeScript sources through tsx, compiled on every start, as the bin ran them
 * until issue 21) and after (the host tools compiled once to dist/ by scripts/build-host.mjs, as
 * the bin runs them now; docs/host-tools.md "The built command"). Both with node directly (npx
 * adds its own start-up, the same to both), the median of several runs after one warm-up run
 * (tsx's transform cache warm, as on every start after the first).
 */
import {spawnSync} from "node:child_process";
import {fileURLToPath} from "node:url";
import {COMMAND} from "../tests/support/command";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE = fileURLToPath(new URL("../host/bin/rainmaker-ota-xs.ts", import.meta.url));

export interface StartupFigures {
	readonly runs: number;
	/** Median seconds, the TypeScript sources through tsx. */
	readonly tsx: number;
	/** Median seconds, the compiled command (dist/). */
	readonly built: number;
	/** Node alone (`node -e ""`), the floor of both. */
	readonly bare: number;
}

function seconds(args: readonly string[]): number {
	const started = process.hrtime.bigint();
	const run = spawnSync(process.execPath, args, {cwd: ROOT, encoding: "utf8"});
	const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
	if (run.status !== 0) throw new Error(`node ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
	return elapsed;
}

function median(args: readonly string[], runs: number): number {
	seconds(args); // warm-up: the build is current, tsx's cache and the page cache are warm
	const times = Array.from({length: runs}, () => seconds(args)).sort((a, b) => a - b);
	return times[Math.floor(runs / 2)]!;
}

export function measureStartup(quick: boolean): StartupFigures {
	const runs = quick ? 1 : 7;
	return {
		runs,
		tsx: median(["--import", "tsx", SOURCE, "node", "--help"], runs),
		built: median([COMMAND, "node", "--help"], runs),
		bare: median(["-e", ""], runs),
	};
}
