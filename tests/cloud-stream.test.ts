/*
 * Stream jobs on a real broker (docs/protocol.md §5.10, docs/local-cloud.md "Stream jobs"): the local
 * cloud (aedes) answers GetStream requests from the job's image; a simulated node process with
 * `--transport mqtt-stream` installs it with the statuses of an HTTPS job; faults are injected in
 * the cloud's answers; the per-node topic rules keep a node to its own streams.
 */
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import mqtt, {type MqttClient} from "mqtt";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import type {StreamAnswer} from "../host/cloud/streams";
import {decodeCborMap} from "../ota/cbor";
import {
	decodeStreamBlock,
	encodeGetStream,
	encodeStreamBlock,
	encodeStreamRejection,
	streamTopic,
} from "../ota/stream-protocol";
import {NO_DELAYS, NodeProcess} from "./support/node-process";
import {fixturePath} from "./support/ota-rig";
import {statusHistory, SUCCESSFUL_INSTALL} from "./support/status-history";
import {waitUntil} from "./support/wait";

const v1 = fixturePath("synthetic/app-1.0.0.bin");
const v2 = fixturePath("synthetic/app-2.0.0.bin");
const fast = [
	...NO_DELAYS,
	"--approval-settle",
	"0",
	"--no-autofetch",
	"--transport",
	"mqtt-stream",
	"--stream-block-wait",
	"5",
];
const STREAM_INSTALL = SUCCESSFUL_INSTALL.map(text => text.replace("HTTPS", "MQTT"));

let cloud: Cloud | undefined;
let otaurls: Array<{[key: string]: unknown}> = [];
let node: NodeProcess | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
	await node?.stop();
	node = undefined;
	for (const client of clients.splice(0)) await client.endAsync(true);
	await cloud?.close();
	cloud = undefined;
});

/** A stream job of v2 for a node on v1, offered and approved; resolves with the job id. */
async function approvedStreamJob(nodeId: string, extra: readonly string[] = []): Promise<string> {
	cloud = await startCloud();
	node = new NodeProcess(nodeId, cloud.mqttUrl, v1, [...fast, ...extra]);
	await cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 20_000);
	const image = await cloud.addImage(new Uint8Array(readFileSync(v2)));
	const job = await cloud.createJob({imageId: image.id, nodes: [nodeId], stream: true});
	cloud.events.on("otaurl", event => (otaurls = [...otaurls, event.payload]));
	await cloud.setParams(nodeId, {OTA: {Operation: "check"}});
	await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
	await cloud.setParams(nodeId, {OTA: {Operation: "start"}});
	return job.id;
}

function index(answer: StreamAnswer): number {
	const block = decodeStreamBlock(answer.payload);
	return typeof block === "string" ? -1 : block.index;
}

describe("stream jobs on the local cloud's broker", function () {
	this.timeout(120_000);

	it("a stream job's otaurl carries stream_id next to url; the node installs it over MQTT with the HTTPS job's statuses, no HTTP download", async () => {
		const nodeId = "stream-node-1";
		let downloads = 0;
		const jobId = await approvedStreamJob(nodeId);
		cloud!.events.on("download", () => downloads++);
		assert.ok(otaurls.length > 0);
		for (const served of otaurls) {
			assert.equal(served.stream_id, jobId);
			assert.equal(typeof served.url, "string");
		}
		await cloud!.waitForStatus(nodeId, jobId, "success", 60_000);
		assert.deepEqual(statusHistory(cloud!, nodeId, jobId), STREAM_INSTALL);
		assert.equal(downloads, 0);
		await node!.waitForLine(/boot: running ota_1 \(rainmaker-ota-xs 2\.0\.0\)/);
	});

	it("lost, duplicated and reordered blocks, a block of the wrong length and one of another file: the install still ends in success", async () => {
		const nodeId = "stream-node-2";
		let request = 0;
		const faults: string[] = [];
		const setFault = () => {
			cloud!.faults.stream = answers => {
				const n = request++;
				if (n === 0) {
					faults.push("lost 3, duplicated 4, 6 before 5");
					const [a0, a1, a2, , a4, a5, a6, ...rest] = answers;
					return [a0, a1, a2, a4, a4, a6, a5, ...rest];
				}
				if (n === 1) {
					faults.push("wrong length, other file");
					const first = decodeStreamBlock(answers[0].payload) as {index: number; payload: Uint8Array};
					return [
						{kind: "data", payload: encodeStreamBlock(1, first.index, first.payload.subarray(0, 10))},
						{kind: "data", payload: encodeStreamBlock(7, first.index, first.payload)},
					];
				}
				return answers;
			};
		};
		cloud = undefined;
		const started = approvedStreamJob(nodeId);
		await waitUntil(() => cloud !== undefined, "the cloud");
		setFault();
		const jobId = await started;
		await cloud!.waitForStatus(nodeId, jobId, "success", 90_000);
		assert.deepEqual(statusHistory(cloud!, nodeId, jobId), STREAM_INSTALL);
		assert.deepEqual(faults, ["lost 3, duplicated 4, 6 before 5", "wrong length, other file"]);
		assert.ok(node!.lines.some(line => /bad block \d+ of 10 bytes/.test(line)));
		assert.ok(node!.lines.some(line => /bad block \d+ of file 7, not 1/.test(line)));
	});

	it("a rejected request fails the attempt with AWS's code; the next attempt installs", async () => {
		const nodeId = "stream-node-3";
		let rejected = false;
		cloud = undefined;
		const started = approvedStreamJob(nodeId);
		await waitUntil(() => cloud !== undefined, "the cloud");
		cloud!.faults.stream = answers => {
			if (rejected) return answers;
			rejected = true;
			return [{kind: "rejected", payload: encodeStreamRejection("InternalError", "the test says no")}];
		};
		const jobId = await started;
		await cloud!.waitForStatus(nodeId, jobId, "success", 60_000);
		const history = statusHistory(cloud!, nodeId, jobId);
		assert.ok(
			history.includes(
				`failed: OTA Attempt 1/3 failed: stream ${jobId} request rejected: InternalError (the test says no)`,
			),
			history.join("\n"),
		);
		assert.equal(history.at(-1), "success: OTA Upgrade finished and verified successfully");
	});

	it("the connection dropped mid-stream: the attempt fails, the next resumes at the saved batch and installs", async () => {
		const nodeId = "stream-node-4";
		const offsets: number[] = [];
		cloud = undefined;
		const started = approvedStreamJob(nodeId);
		await waitUntil(() => cloud !== undefined, "the cloud");
		let dropped = false;
		cloud!.faults.stream = answers => {
			const first = index(answers[0]);
			offsets.push(first);
			if (!dropped && first >= 16) {
				dropped = true;
				setTimeout(() => cloud!.dropMqttClients(), 50);
				return [];
			}
			return answers;
		};
		const jobId = await started;
		await cloud!.waitForStatus(nodeId, jobId, "success", 90_000);
		assert.ok(dropped);
		const history = statusHistory(cloud!, nodeId, jobId);
		assert.ok(
			history.some(text =>
				/^failed: OTA Attempt 1\/3 failed: MQTT link lost during the stream download/.test(text),
			) || node!.lines.some(line => /MQTT link lost during the stream download/.test(line)),
			history.join("\n"),
		);
		// the next attempt starts at the batch boundary saved before the drop (block 16), not at 0
		const afterDrop = offsets.slice(offsets.indexOf(16) + 1);
		assert.equal(afterDrop[0], 16, offsets.join(","));
		assert.ok(node!.lines.some(line => /Resuming the download at byte 65536/.test(line)));
	});

	it("a stream whose image fails the checks is rejected at once, as over HTTPS", async () => {
		const nodeId = "stream-node-5";
		cloud = await startCloud();
		node = new NodeProcess(nodeId, cloud.mqttUrl, v1, fast);
		await cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 20_000);
		const image = await cloud.addImage(
			new Uint8Array(readFileSync(fixturePath("synthetic/app-other-project.bin"))),
		);
		const job = await cloud.createJob({imageId: image.id, nodes: [nodeId], stream: true});
		await cloud.setParams(nodeId, {OTA: {Operation: "check"}});
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		await cloud.setParams(nodeId, {OTA: {Operation: "start"}});
		await cloud.waitForStatus(nodeId, job.id, "rejected", 30_000);
		assert.deepEqual(statusHistory(cloud, nodeId, job.id), [
			"delayed: Waiting for Approval",
			"in-progress: Starting OTA Upgrade (MQTT attempt 1/3)",
			"rejected: Project Name mismatch",
		]);
	});

	it("per-node topic rules: a node subscribes and publishes only its own stream topics; another node is refused", async () => {
		cloud = await startCloud();
		const connect = async (clientId: string) => {
			const client = await mqtt.connectAsync(cloud!.mqttUrl, {
				clientId,
				reconnectPeriod: 0,
				connectTimeout: 5000,
			});
			clients.push(client);
			return client;
		};
		const owner = await connect("stream-owner");
		const other = await connect("stream-other");
		const image = await cloud.addImage(new Uint8Array(readFileSync(v2)));
		const job = await cloud.createJob({imageId: image.id, nodes: ["stream-owner"], stream: true});
		const data = streamTopic("stream-owner", job.id, "data");
		const rejected = streamTopic("stream-owner", job.id, "rejected");
		const own = await owner.subscribeAsync([data, rejected], {qos: 1});
		assert.deepEqual(
			own.map(grant => grant.qos),
			[1, 1],
		);
		for (const filter of [data, streamTopic("stream-owner", "+", "data"), "$aws/things/#"]) {
			const granted = await other.subscribeAsync(filter, {qos: 1}).then(
				grants => grants.map(grant => grant.qos),
				(error: {packet?: {granted?: number[]}}) => error.packet?.granted,
			);
			assert.deepEqual(granted, [128], filter);
		}
		// the owner's request is answered on its own data topic
		const got = new Promise<Uint8Array>(resolve =>
			owner.on("message", (topic, payload) => {
				if (topic === data) resolve(new Uint8Array(payload));
			}),
		);
		await owner.publishAsync(
			streamTopic("stream-owner", job.id, "get"),
			Buffer.from(encodeGetStream({fileId: 1, blockSize: 4096, offset: 0, count: 1})),
			{qos: 1},
		);
		const block = decodeStreamBlock(await got);
		assert.ok(typeof block !== "string" && block.index === 0 && block.payload.length === 4096);
		// another node publishing on the owner's get topic is dropped; asking its own id for the owner's stream is ResourceNotFound
		const closed = new Promise<void>(resolve => other.once("close", () => resolve()));
		other.publish(
			streamTopic("stream-owner", job.id, "get"),
			Buffer.from(encodeGetStream({fileId: 1, blockSize: 4096, offset: 0, count: 1})),
			{qos: 1},
		);
		await closed;
		const other2 = await connect("stream-other-2");
		const otherRejected = streamTopic("stream-other-2", job.id, "rejected");
		await other2.subscribeAsync(otherRejected, {qos: 1});
		const rejection = new Promise<Uint8Array>(resolve =>
			other2.on("message", (topic, payload) => {
				if (topic === otherRejected) resolve(new Uint8Array(payload));
			}),
		);
		await other2.publishAsync(
			streamTopic("stream-other-2", job.id, "get"),
			Buffer.from(encodeGetStream({fileId: 1, blockSize: 4096, offset: 0, count: 1})),
			{qos: 1},
		);
		assert.equal((decodeCborMap(await rejection) as {o: string}).o, "ResourceNotFound");
	});
});
