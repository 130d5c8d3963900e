/*
 * The local cloud as the cloud benchmarks run it (rows 6, 7 and 8): a child process with
 * `--expose-gc` and gc-on-signal.mjs, so that its memory can be read after a collection.
 */
import {spawn, type ChildProcess} from "node:child_process";
import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {COMMAND} from "../tests/support/command";

/** A running cloud: its process, its MQTT and REST addresses, and the heap lines it printed. */
export interface BenchCloud {
	child: ChildProcess;
	mqttUrl: string;
	httpUrl: string;
	heapLines: string[];
}

/** Starts `rainmaker-ota-xs cloud` on free ports with one user, and waits until it prints its addresses. */
export async function startBenchCloud(user: string, password: string): Promise<BenchCloud> {
	const gcHook = fileURLToPath(new URL("gc-on-signal.mjs", import.meta.url));
	const child = spawn(
		process.execPath,
		[
			"--expose-gc",
			"--import",
			gcHook,
			COMMAND,
			"cloud",
			"--mqtt-port",
			"0",
			"--http-port",
			"0",
			"--quiet",
			"--user",
			user,
		],
		{stdio: ["ignore", "pipe", "inherit"], env: {...process.env, RAINMAKER_OTA_XS_CLOUD_PASSWORDS: password}},
	);
	const heapLines: string[] = [];
	const urls = await new Promise<[string, string]>((resolve, reject) => {
		let text = "";
		child.stdout!.on("data", (chunk: Buffer) => {
			text += chunk.toString();
			for (const match of chunk.toString().matchAll(/^bench-heap (\d+)$/gm)) heapLines.push(match[1]!);
			const match = /^MQTT (mqtt:\/\/[^,;\s]+); REST (http:\/\/\S+\/v1\/)/m.exec(text);
			if (match) resolve([match[1]!, match[2]!]);
		});
		child.once("exit", code => reject(new Error(`the cloud exited (${code}) before it was up`)));
	});
	return {child, mqttUrl: urls[0], httpUrl: urls[1], heapLines};
}

export function memory(pid: number): {rss: number; peak: number} {
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
	return {rss: field("VmRSS"), peak: field("VmHWM")};
}

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Lets the cloud finish what is queued, has it collect its garbage (gc-on-signal.mjs), and reads its memory. */
export async function settledMemory(
	pid: number,
	heapLines: string[],
): Promise<{rss: number; peak: number; heap: number}> {
	await pause(500);
	const count = heapLines.length;
	process.kill(pid, "SIGUSR2");
	while (heapLines.length === count) await pause(50);
	await pause(500);
	return {...memory(pid), heap: Number(heapLines.at(-1))};
}
