/*
 * The simulated node as a person runs it: `rainmaker-ota-xs node` processes (one per boot, under
 * the supervisor's reset loop), with their output lines kept for assertions.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {superviseNode, type SupervisedNode} from "../../host/sim/supervisor";
import {waitUntil} from "./wait";

/** Options of a node process with the start-up, request and reboot delays at 0 (tests wait on events, not on these). */
export const NO_DELAYS: readonly string[] = Object.freeze([
	"--fetch-delay",
	"0",
	"--request-delay",
	"0",
	"--reboot-delay",
	"0",
]);

export class NodeProcess {
	readonly dir = mkdtempSync(join(tmpdir(), "rmx-node-"));
	readonly lines: string[] = [];
	readonly node: SupervisedNode;

	constructor(
		readonly nodeId: string,
		broker: string,
		image: string,
		extra: readonly string[] = [],
	) {
		this.node = superviseNode(
			[
				"--broker",
				broker,
				"--node-id",
				nodeId,
				"--flash-dir",
				join(this.dir, "flash"),
				"--image",
				image,
				...extra,
			],
			line => {
				this.lines.push(line);
				if (process.env.RMX_TEST_LOG) process.stderr.write(`[${nodeId}] ${line}\n`);
			},
		);
	}

	/** Waits (real time) for an output line matching `pattern`. */
	async waitForLine(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
		await waitUntil(
			() => this.lines.some(line => pattern.test(line)),
			`a node line matching ${pattern}`,
			timeoutMs,
		);
		return this.lines.find(line => pattern.test(line))!;
	}

	/**
	 * Sends a console command and returns the lines printed since, once a line matches `until` (an
	 * event, not a sleep); without `until`, at once (for commands whose effect is awaited otherwise).
	 */
	async command(line: string, until?: RegExp, timeoutMs = 20_000): Promise<string[]> {
		const from = this.lines.length;
		this.node.send(line);
		if (until)
			await waitUntil(
				() => this.lines.slice(from).some(printed => until.test(printed)),
				`a line matching ${until} after "${line}"`,
				timeoutMs,
			);
		return this.lines.slice(from);
	}

	async stop(): Promise<void> {
		this.node.stop();
		await this.node.stopped;
		rmSync(this.dir, {recursive: true, force: true});
	}
}
