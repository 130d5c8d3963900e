/*
 * The cloud's memory under junk reports (issue 12; docs/local-cloud.md, "Bounded reports"):
 * `rainmaker-ota-xs cloud` runs as its own process, a node sends junk otastatus messages, and the
 * process's resident memory (Linux /proc/<pid>/status: VmRSS now, VmHWM peak) is read before and
 * after, each time after a full garbage collection (gc-on-signal.mjs), so it shows what is kept. Two loads: 60 messages of 4 MiB (refused at the 128 KiB message limit, each ending the
 * connection), and messages just under the limit for unknown jobs (accepted, recorded, bounded).
 * Run alone: `npx tsx bench/cloud-junk.ts [--quick]`; `npm run bench` includes it.
 */
import {spawn} from "node:child_process";
import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import mqtt from "mqtt";

export interface CloudJunkResult {
	/** Bytes of V8 heap in use after a full GC. */
	heapBefore: number;
	heapAfterBig: number;
	heapAfterSmall: number;
	/** KiB. */
	rssBefore: number;
	rssAfterBig: number;
	rssAfterSmall: number;
	peak: number;
	bigMessages: number;
	bigBytes: number;
	smallMessages: number;
	smallBytes: number;
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

export async function measureCloudJunk(quick = false): Promise<CloudJunkResult> {
	const bin = fileURLToPath(new URL("../host/bin/rainmaker-ota-xs.ts", import.meta.url));
	const gcHook = fileURLToPath(new URL("gc-on-signal.mjs", import.meta.url));
	const child = spawn(
		process.execPath,
		[
			"--expose-gc",
			"--import",
			gcHook,
			"--import",
			"tsx",
			bin,
			"cloud",
			"--mqtt-port",
			"0",
			"--http-port",
			"0",
			"--quiet",
			"--user",
			"bench@example.com",
		],
		{stdio: ["ignore", "pipe", "inherit"], env: {...process.env, RAINMAKER_OTA_XS_CLOUD_PASSWORDS: "bench"}},
	);
	try {
		const heapLines: string[] = [];
		const mqttUrl = await new Promise<string>((resolve, reject) => {
			let text = "";
			child.stdout!.on("data", (chunk: Buffer) => {
				text += chunk.toString();
				for (const match of chunk.toString().matchAll(/^bench-heap (\d+)$/gm)) heapLines.push(match[1]!);
				const match = /^MQTT (mqtt:\/\/[^,;\s]+)/m.exec(text);
				if (match) resolve(match[1]!);
			});
			child.once("exit", code => reject(new Error(`the cloud exited (${code}) before it was up`)));
		});
		const before = await settledMemory(child.pid!, heapLines);
		const bigMessages = quick ? 6 : Number(process.env.BIG ?? 60);
		const bigBytes = 4 * 1024 * 1024;
		const big = JSON.stringify({ota_job_id: "junk", status: "failed", additional_info: "x".repeat(bigBytes - 64)});
		for (let index = 0; index < bigMessages; index++) {
			const client = await mqtt.connectAsync(mqttUrl, {clientId: "junk-node", reconnectPeriod: 0});
			const closed = new Promise<void>(resolve => client.once("close", () => resolve()));
			client.publish("node/junk-node/otastatus", big, {qos: 1});
			await closed;
			await client.endAsync(true);
		}
		const afterBig = await settledMemory(child.pid!, heapLines);
		const smallMessages = quick ? 200 : Number(process.env.SMALL ?? 2000);
		const smallBytes = 120 * 1024;
		const client = await mqtt.connectAsync(mqttUrl, {clientId: "junk-node", reconnectPeriod: 0});
		const info = "y".repeat(smallBytes - 200);
		for (let index = 0; index < smallMessages; index++)
			await client.publishAsync(
				"node/junk-node/otastatus",
				JSON.stringify({ota_job_id: `junk-${index}`, status: "failed", additional_info: info}),
				{qos: 1},
			);
		await client.endAsync();
		const afterSmall = await settledMemory(child.pid!, heapLines);
		return {
			heapBefore: before.heap,
			heapAfterBig: afterBig.heap,
			heapAfterSmall: afterSmall.heap,
			rssBefore: before.rss,
			rssAfterBig: afterBig.rss,
			rssAfterSmall: afterSmall.rss,
			peak: afterSmall.peak,
			bigMessages,
			bigBytes,
			smallMessages,
			smallBytes,
		};
	} finally {
		child.kill("SIGTERM");
	}
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
	const result = await measureCloudJunk(process.argv.includes("--quick"));
	const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
	const heap = (bytes: number) => mib(bytes / 1024);
	console.log(`cloud before: RSS ${mib(result.rssBefore)}, V8 heap in use ${heap(result.heapBefore)}`);
	console.log(
		`after ${result.bigMessages} junk otastatus of ${result.bigBytes / 1048576} MiB (refused): RSS ${mib(result.rssAfterBig)}, heap ${heap(result.heapAfterBig)}`,
	);
	console.log(
		`after ${result.smallMessages} junk otastatus of ${result.smallBytes / 1024} KiB (recorded, bounded): RSS ${mib(result.rssAfterSmall)}, heap ${heap(result.heapAfterSmall)}`,
	);
	console.log(`peak (VmHWM): ${mib(result.peak)}`);
}
