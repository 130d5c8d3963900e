/*
 * `npm start` (and `npm start -- --manual`) ended by Ctrl-C or SIGTERM at several moments of the
 * flow (issue 21: Ctrl-C left /tmp/rmx-demo-* behind): the demo says it stopped, its temporary
 * folder is gone and none of its processes (npm, the demo, the node's boot) is left. Ctrl-C is
 * SIGINT to the whole process group, as a terminal sends it; SIGTERM goes to npm alone, as `kill`
 * sends it. Each moment is an event in the output, never a sleep.
 */
import assert from "node:assert/strict";
import {execFileSync, spawn} from "node:child_process";
import {mkdtempSync, readdirSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {waitUntil} from "./support/wait";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The process `root` and all its descendants, from ps. */
function processTree(root: number): number[] {
	const table = execFileSync("ps", ["-e", "-o", "pid=,ppid="], {encoding: "utf8"})
		.trim()
		.split("\n")
		.map(line => line.trim().split(/\s+/).map(Number) as [number, number]);
	const tree = [root];
	for (let i = 0; i < tree.length; i++)
		for (const [pid, ppid] of table) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
	return tree;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

interface Case {
	readonly manual: boolean;
	/** The moment: a line of the demo's output. */
	readonly at: RegExp;
	readonly signal: "SIGINT" | "SIGTERM";
}

const cases: Case[] = [
	{manual: false, at: /\[demo\] local cloud: /, signal: "SIGINT"},
	{manual: false, at: /\[demo\] published firmware 2\.0\.0/, signal: "SIGTERM"},
	{manual: false, at: /\[demo\] update 2\.0\.0 available on demo-node, waiting for approval/, signal: "SIGINT"},
	{manual: false, at: /\[node\] .*OTA status in-progress: Downloaded \d+%/, signal: "SIGTERM"},
	{manual: true, at: /\[demo\] approve it in the web page/, signal: "SIGINT"},
	{manual: true, at: /\[node\] .*boot: running ota_0/, signal: "SIGTERM"},
];

describe("npm start ended by Ctrl-C or SIGTERM at any moment", function () {
	this.timeout(120_000);

	for (const {manual, at, signal} of cases)
		it(`npm start${manual ? " -- --manual" : ""}: ${signal === "SIGINT" ? "Ctrl-C" : "SIGTERM"} at ${at.source.replace(/\\/g, "")} leaves no temporary folder and no process`, async () => {
			const temporary = mkdtempSync(join(tmpdir(), "rmx-signals-"));
			const npm = spawn("npm", ["start", ...(manual ? ["--", "--manual"] : [])], {
				cwd: ROOT,
				env: {...process.env, TMPDIR: temporary},
				stdio: ["pipe", "pipe", "pipe"],
				detached: true, // its own process group, as a terminal's foreground job
			});
			let output = "";
			npm.stdout.on("data", data => (output += data));
			npm.stderr.on("data", data => (output += data));
			const exited = new Promise<void>(resolve => npm.once("exit", () => resolve()));
			try {
				await waitUntil(() => at.test(output), `${at} in the output; got:\n${output}`, 90_000);
				const processes = processTree(npm.pid!);
				assert.ok(processes.length >= 2, `npm and the demo run: ${processes.join(" ")}`);
				if (signal === "SIGINT") process.kill(-npm.pid!, "SIGINT");
				else npm.kill("SIGTERM");
				await exited;
				await waitUntil(
					() => processes.every(pid => !alive(pid)),
					`the end of ${processes.filter(alive).join(" ")} (of ${processes.join(" ")})`,
					20_000,
				);
				assert.match(output, new RegExp(`\\[demo\\] stopped by ${signal}: ending the node and the cloud`));
				assert.deepEqual(readdirSync(temporary), [], `left in ${temporary}:\n${output}`);
			} finally {
				if (npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid!, "SIGKILL");
				rmSync(temporary, {recursive: true, force: true});
			}
		});
});
