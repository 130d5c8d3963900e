/*
 * Rows 7 and 8 (issue 20; docs/local-cloud.md, "Bounded state", "Login throttling"): the local
 * cloud as its own process under the floods an outsider on the same machine tried.
 * Row 7: 1500 `params/local` messages with new keys from one node (each connection ends at the
 * params limit; the flood reconnects), and 800 new client ids each sending a config just under
 * the config limit; the cloud's resident memory (after a full GC) and its peak are read.
 * Row 8: the median latency of an authenticated REST call (`GET user/nodes`) alone, and while
 * 16 loopback addresses flood `login2` with wrong passwords (the flood: REST median 1 s).
 * Run alone: `npx tsx bench/cloud-soak.ts [--quick]`; `npm run bench` includes it.
 */
import {request} from "node:http";
import {fileURLToPath} from "node:url";
import mqtt from "mqtt";
import {settledMemory, startBenchCloud} from "./bench-cloud";

export interface SoakResult {
	/** KiB. */
	rssBefore: number;
	rssAfter: number;
	peak: number;
	paramsMessages: number;
	paramsRefused: number;
	clientIds: number;
	nodesKept: number;
	/** ms. */
	restAloneMedian: number;
	restFloodMedian: number;
	restFloodMax: number;
	logins: number;
	loginStatuses: Record<string, number>;
}

const password = "soak-password";
/** Login flooders, each from its own loopback address, each for one of four user names. */
const FLOODERS = 16;
/** The bounds stated for rows 7 and 8. */
export const SOAK_RSS_BOUND_KIB = 200 * 1024;
export const FLOOD_MEDIAN_BOUND_MS = 200;

/** One HTTP request from `localAddress`; resolves with the status and the time it took. */
function call(
	url: string,
	options: {method?: string; body?: string; token?: string; localAddress?: string},
): Promise<{status: number; ms: number; body: string}> {
	const started = performance.now();
	return new Promise((resolve, reject) => {
		const req = request(
			url,
			{
				method: options.method ?? "GET",
				agent: false,
				...(options.localAddress ? {localAddress: options.localAddress} : {}),
				headers: {
					...(options.token ? {Authorization: options.token} : {}),
					...(options.body ? {"Content-Type": "application/json"} : {}),
				},
			},
			response => {
				let body = "";
				response.on("data", (chunk: Buffer) => (body += chunk.toString()));
				response.on("end", () =>
					resolve({status: response.statusCode ?? 0, ms: performance.now() - started, body}),
				);
			},
		);
		req.on("error", reject);
		req.end(options.body);
	});
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Publishes until the broker ends the connection or `count` messages went; returns how many were sent. */
async function floodParams(mqttUrl: string, start: number, count: number): Promise<{sent: number; dropped: boolean}> {
	const client = await mqtt.connectAsync(mqttUrl, {clientId: "soak-node", reconnectPeriod: 0});
	const closed = new Promise<"dropped">(resolve => client.once("close", () => resolve("dropped")));
	let sent = 0;
	for (; sent < count; sent++) {
		const index = start + sent;
		const changes = {
			[`device${index}`]: Object.fromEntries(
				Array.from({length: 8}, (_, key) => [`param${index}_${key}`, "v".repeat(64)]),
			),
		};
		const acked = client
			.publishAsync("node/soak-node/params/local", JSON.stringify(changes), {qos: 1})
			.then(() => "acked" as const);
		if ((await Promise.race([acked, closed])) === "dropped") return {sent: sent + 1, dropped: true};
	}
	await client.endAsync(true);
	return {sent, dropped: false};
}

export async function measureCloudSoak(quick = false): Promise<SoakResult> {
	const {child, mqttUrl, httpUrl, heapLines} = await startBenchCloud("soak@example.com", password);
	try {
		const before = await settledMemory(child.pid!, heapLines);
		// Flood 1: params/local with new keys.
		const paramsMessages = quick ? 300 : 1500;
		let sent = 0;
		let paramsRefused = 0;
		while (sent < paramsMessages) {
			const round = await floodParams(mqttUrl, sent, paramsMessages - sent);
			sent += round.sent;
			if (round.dropped) paramsRefused++;
		}
		// Flood 2: new client ids, each with a config just under the limit (32 KiB).
		const clientIds = quick ? 100 : 800;
		const config = JSON.stringify({
			node_id: "x",
			info: {name: "soak", fw_version: "1.0.0", type: "x"},
			devices: [{name: "D", blob: "c".repeat(31 * 1024)}],
		});
		for (let index = 0; index < clientIds; index++) {
			const client = await mqtt.connectAsync(mqttUrl, {clientId: `soak-id-${index}`, reconnectPeriod: 0});
			const closed = new Promise<void>(resolve => client.once("close", () => resolve()));
			const acked = client.publishAsync(`node/soak-id-${index}/config`, config, {qos: 1});
			await Promise.race([acked, closed]);
			await client.endAsync(true);
		}
		const after = await settledMemory(child.pid!, heapLines);
		// Row 8: REST latency alone, then during a login flood from 40 loopback addresses.
		const login = await call(`${httpUrl}login2`, {
			method: "POST",
			body: JSON.stringify({user_name: "soak@example.com", password}),
		});
		const token = (JSON.parse(login.body) as {accesstoken: string}).accesstoken;
		const nodes = JSON.parse((await call(`${httpUrl}user/nodes`, {token})).body) as {total: number};
		const samples = quick ? 50 : 200;
		const alone: number[] = [];
		for (let index = 0; index < samples; index++) alone.push((await call(`${httpUrl}user/nodes`, {token})).ms);
		let flooding = true;
		const loginStatuses: Record<string, number> = {};
		let logins = 0;
		const flooders = Array.from({length: FLOODERS}, async (_, index) => {
			const localAddress = `127.0.${1 + Math.floor(index / 200)}.${1 + (index % 200)}`;
			while (flooding) {
				const answer = await call(`${httpUrl}login2`, {
					method: "POST",
					localAddress,
					body: JSON.stringify({user_name: `victim${index % 4}@example.com`, password: "wrong"}),
				});
				loginStatuses[answer.status] = (loginStatuses[answer.status] ?? 0) + 1;
				logins++;
			}
		});
		await new Promise(resolve => setTimeout(resolve, 300));
		const during: number[] = [];
		for (let index = 0; index < samples; index++) during.push((await call(`${httpUrl}user/nodes`, {token})).ms);
		flooding = false;
		await Promise.all(flooders);
		return {
			rssBefore: before.rss,
			rssAfter: after.rss,
			peak: after.peak,
			paramsMessages: sent,
			paramsRefused,
			clientIds,
			nodesKept: nodes.total,
			restAloneMedian: median(alone),
			restFloodMedian: median(during),
			restFloodMax: Math.max(...during),
			logins,
			loginStatuses,
		};
	} finally {
		child.kill("SIGTERM");
	}
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
	const result = await measureCloudSoak(process.argv.includes("--quick"));
	const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
	console.log(
		`before: RSS ${mib(result.rssBefore)}; after ${result.paramsMessages} params/local (${result.paramsRefused} connections ended at the limit) and ` +
			`${result.clientIds} client ids with a 31 KiB config (${result.nodesKept} nodes kept): RSS ${mib(result.rssAfter)}, peak ${mib(result.peak)}`,
	);
	console.log(
		`GET user/nodes median ${result.restAloneMedian.toFixed(1)} ms alone, ${result.restFloodMedian.toFixed(1)} ms (max ${result.restFloodMax.toFixed(0)} ms) ` +
			`during ${result.logins} login2 attempts: ${JSON.stringify(result.loginStatuses)}`,
	);
}
