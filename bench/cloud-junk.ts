/*
 * The cloud's memory under junk reports (issue 12; docs/local-cloud.md, "Bounded reports"):
 * `rainmaker-ota-xs cloud` runs as its own process, a node sends junk otastatus messages, and the
 * process's resident memory (Linux /proc/<pid>/status: VmRSS now, VmHWM peak) is read before and
 * after, each time after a full garbage collection (gc-on-signal.mjs), so it shows what is kept. Two loads: 60 messages of 4 MiB (refused at the 128 KiB message limit, each ending the
 * connection), and messages just under the limit for unknown jobs (accepted, recorded, bounded).
 * Run alone: `npx tsx bench/cloud-junk.ts [--quick]`; `npm run bench` includes it.
 */
import {fileURLToPath} from "node:url";
import mqtt from "mqtt";
import {settledMemory, startBenchCloud} from "./bench-cloud";

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

export async function measureCloudJunk(quick = false): Promise<CloudJunkResult> {
	const {child, mqttUrl, heapLines} = await startBenchCloud("bench@example.com", "bench");
	try {
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
