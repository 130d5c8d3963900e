/*
 * OTA over an MQTT file stream (docs/protocol.md §5.10) through the simulated node: the real
 * firmware, update engine and StreamDownload; the cloud's GetStream answers of host/cloud/streams.ts
 * over the in-memory broker, with faults injected per request; the virtual clock.
 */
import assert from "node:assert/strict";
import {decodeCborMap, encodeCborMap} from "../../ota/cbor";
import {
	decodeGetStream,
	decodeStreamBlock,
	encodeGetStream,
	encodeStreamBlock,
	type GetStreamRequest,
	fullBitmap,
	streamTopic,
} from "../../ota/stream-protocol";
import {parseOtaUrl} from "../../ota/otaurl";
import {answerGetStream} from "../../host/cloud/streams";
import type {StreamAnswer} from "../../host/cloud/streams";
import {finishInstall, jobFor, SimNode, V1, V2} from "./support/sim-node";

const STREAM = {transport: "mqtt-stream" as const};

let node: SimNode | undefined;
afterEach(() => {
	node?.close();
	node = undefined;
});

/** The GetStream requests the node published, decoded. */
function requests(sim: SimNode): GetStreamRequest[] {
	return sim.broker.messages
		.filter(message => message.bytes && message.topic.endsWith("/get/cbor"))
		.map(message => decodeGetStream(message.bytes!) as GetStreamRequest);
}

function block(answer: StreamAnswer): number {
	const decoded = decodeStreamBlock(answer.payload);
	return typeof decoded === "string" ? -1 : decoded.index;
}

describe("CBOR of the stream messages", () => {
	it("encodes the GetStream request as the reference does (f, l, o, b, n) and reads it back", () => {
		const bytes = encodeGetStream({fileId: 1, blockSize: 4096, offset: 16, count: 16, bitmap: fullBitmap(16)});
		// a5 (map of 5) 61 66 01 61 6c 19 1000 61 6f 10 61 62 42 ffff 61 6e 10
		assert.deepEqual(
			Array.from(bytes),
			[
				0xa5, 0x61, 0x66, 0x01, 0x61, 0x6c, 0x19, 0x10, 0x00, 0x61, 0x6f, 0x10, 0x61, 0x62, 0x42, 0xff, 0xff,
				0x61, 0x6e, 0x10,
			],
		);
		assert.deepEqual(decodeGetStream(bytes), {
			fileId: 1,
			blockSize: 4096,
			offset: 16,
			count: 16,
			bitmap: Uint8Array.of(0xff, 0xff),
		});
		assert.deepEqual(Array.from(fullBitmap(11)), [0xff, 0x07]);
	});

	it("a data message's payload is a view into the message (no copy); bad messages say what is wrong", () => {
		const payload = new Uint8Array(4096).fill(7);
		const message = encodeStreamBlock(1, 3, payload);
		const decoded = decodeStreamBlock(message);
		assert.ok(typeof decoded !== "string");
		assert.equal(decoded.payload.buffer, message.buffer);
		assert.deepEqual([decoded.fileId, decoded.index, decoded.length, decoded.payload.length], [1, 3, 4096, 4096]);
		assert.match(decodeStreamBlock(message.subarray(0, 100)) as string, /ends early/);
		assert.match(decodeCborMap(Uint8Array.of(0xbf)) as string, /not supported \(indefinite length\?\)/);
		assert.match(decodeStreamBlock(encodeCborMap([["f", 1]])) as string, /without integer f, i, l/);
		assert.deepEqual(decodeCborMap(encodeCborMap([["n", -5]])), {n: -5});
	});

	it("the cloud answers bad requests with AWS's error codes", () => {
		const image = new Uint8Array(10_000);
		const code = (request: Uint8Array, streamImage: Uint8Array | undefined = image, none = false) => {
			const [answer] = Array.from(answerGetStream(none ? undefined : streamImage, request));
			return answer.kind === "rejected" ? (decodeCborMap(answer.payload) as {o: string}).o : "data";
		};
		const get = (fields: Partial<GetStreamRequest>) =>
			encodeGetStream({fileId: 1, blockSize: 4096, offset: 0, count: 1, ...fields});
		assert.equal(code(get({})), "data");
		assert.equal(code(get({}), undefined, true), "ResourceNotFound");
		assert.equal(code(get({fileId: 2})), "ResourceNotFound");
		assert.equal(code(get({blockSize: 100})), "BlockSizeOutOfBounds");
		assert.equal(code(get({offset: 3})), "OffsetOutOfBounds");
		assert.equal(code(Uint8Array.of(0x01)), "InvalidCbor");
		assert.equal(code(encodeCborMap([["l", 4096]])), "InvalidRequest");
		// n blocks, and never more than 128 KiB per request
		assert.equal(Array.from(answerGetStream(image, get({count: 3}))).length, 3);
		const big = new Uint8Array(1 << 20);
		assert.equal(
			Array.from(answerGetStream(big, get({count: 512, blockSize: 4096, bitmap: fullBitmap(64)}))).length,
			32,
		);
	});
});

describe("the otaurl of a node that downloads over an MQTT stream", () => {
	const policy = {transport: "mqtt-stream" as const, allowHttp: false};
	it("needs stream_id (the reference's text) and file_size; reads stream_id next to url", () => {
		const job = {ota_job_id: "j", url: "ftp://not.used/fw.bin", file_size: 1000};
		assert.deepEqual(parseOtaUrl(JSON.stringify(job), policy), {
			error: "Aborted. Stream ID not found in JSON",
			jobId: "j",
		});
		assert.deepEqual(parseOtaUrl(JSON.stringify({...job, stream_id: "s1", file_size: 0}), policy), {
			error: "Missing stream_id or filesize for MQTT OTA",
			jobId: "j",
		});
		const parsed = parseOtaUrl(JSON.stringify({...job, stream_id: "s1"}), policy);
		assert.ok("job" in parsed && parsed.job.streamId === "s1");
		assert.match(
			(parseOtaUrl(JSON.stringify({...job, stream_id: "a/#"}), policy) as {error: string}).error,
			/'\/'/,
		);
	});
});

describe("OTA over an MQTT file stream on the simulated node", () => {
	it("installs with the same statuses as the HTTPS job (MQTT in place of HTTPS), without an HTTP request", () => {
		const https = new SimNode();
		https.powerOn();
		https.offerAndApprove(jobFor(https, "job-a", V2, "2.0.0"));
		finishInstall(https, "job-a");
		const httpsTexts = https.texts("job-a");
		https.close();

		node = new SimNode({ota: STREAM});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-a", V2, "2.0.0", {stream: true}));
		node.until(() => node!.restarts > 0, "the reboot request");
		// subscribed to its own stream's topics only
		const subscribed = node.session!.transport.subscriptions.filter(topic => topic.startsWith("$aws/"));
		assert.deepEqual(subscribed.sort(), [
			streamTopic(node.nodeId, "stream-job-a", "data"),
			streamTopic(node.nodeId, "stream-job-a", "rejected"),
		]);
		finishInstall(node, "job-a");
		assert.deepEqual(
			node.texts("job-a"),
			httpsTexts.map(text => text.replace("HTTPS", "MQTT")),
		);
		assert.equal(node.http.requests.length, 0);
		assert.equal(node.boots.at(-1)?.info.version, "2.0.0");
		const sent = requests(node);
		assert.deepEqual(
			sent.map(request => [request.offset, request.count]),
			[
				[0, 16],
				[16, 16],
				[32, Math.ceil(V2.length / 4096) - 32],
			],
		);
	});

	it("a lost block is asked for again after the per-block wait (10 s of virtual time) and the attempt goes on", () => {
		node = new SimNode({ota: STREAM});
		// block 15 is the batch's last: nothing tells the node it is lost but the wait
		node.streamFault = (answers, request) =>
			request === 0 ? answers.filter(answer => block(answer) !== 15) : answers;
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-lost", V2, "2.0.0", {stream: true}));
		finishInstall(node, "job-lost");
		assert.deepEqual(
			requests(node)
				.slice(0, 2)
				.map(request => [request.offset, request.count]),
			[
				[0, 16],
				[15, 16],
			],
		);
		assert.ok(
			node.log
				.messages()
				.some(line => /no block 15 of stream stream-job-lost within 10 s; asking again \(1\/3\)/.test(line)),
		);
		assert.ok(!node.texts("job-lost").some(text => text.startsWith("failed")));
	});

	it("duplicated blocks are ignored; reordered ones are asked for again at once (no wait)", () => {
		node = new SimNode({ota: STREAM});
		node.streamFault = (answers, request) => {
			if (request === 0) return [...answers, ...answers]; // every block twice
			if (request === 1) return [answers[1], answers[0], ...answers.slice(2)]; // 17 before 16
			return answers;
		};
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-order", V2, "2.0.0", {stream: true}));
		finishInstall(node, "job-order");
		const sent = requests(node).map(request => [request.offset, request.count]);
		assert.deepEqual(sent.slice(0, 3), [
			[0, 16],
			[16, 16],
			[17, 16],
		]);
		assert.ok(!node.log.messages().some(line => /within 10 s/.test(line)), "no per-block wait");
	});

	it("a block of the wrong length or of another file is dropped and asked for again", () => {
		node = new SimNode({ota: STREAM});
		node.streamFault = (answers, request) => {
			if (request === 0) {
				const first = decodeStreamBlock(answers[0].payload) as {payload: Uint8Array};
				return [{kind: "data", payload: encodeStreamBlock(1, 0, first.payload.subarray(0, 100))}];
			}
			if (request === 1) {
				const first = decodeStreamBlock(answers[0].payload) as {payload: Uint8Array};
				return [{kind: "data", payload: encodeStreamBlock(2, 0, first.payload)}];
			}
			return answers;
		};
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-bad", V2, "2.0.0", {stream: true}));
		finishInstall(node, "job-bad");
		assert.ok(
			node.log
				.messages()
				.some(line => /bad block 0 of 100 bytes \(l 100\), expected 4096; asking again/.test(line)),
		);
		assert.ok(node.log.messages().some(line => /bad block 0 of file 2, not 1; asking again/.test(line)));
		assert.ok(!node.texts("job-bad").some(text => text.startsWith("failed")));
	});

	it("a rejected request fails the attempt with AWS's code and message; all attempts reported", () => {
		node = new SimNode({ota: STREAM});
		node.powerOn();
		const job = jobFor(node, "job-rej", V2, "2.0.0", {stream: true});
		node.streams.clear(); // the cloud has no such stream
		node.offerAndApprove(job);
		node.until(() => node!.firmware!.ota.state === "idle", "the end of the job");
		const failed = node.texts("job-rej").filter(text => text.startsWith("failed"));
		assert.deepEqual(
			failed,
			[1, 2, 3].map(
				n =>
					`failed: OTA Attempt ${n}/3 failed: stream stream-job-rej request rejected: ResourceNotFound (no such stream)`,
			),
		);
	});

	it("no block at all: re-requests on the virtual clock, then the attempt fails saying why", () => {
		node = new SimNode({ota: {...STREAM, maxAttempts: 1}});
		node.streamFault = () => [];
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-silent", V2, "2.0.0", {stream: true}));
		node.until(() => node!.firmware!.ota.state === "idle", "the end of the job");
		assert.equal(
			node.last("job-silent")!.additional_info,
			"OTA Attempt 1/1 failed: no block 0 of stream stream-job-silent within 10 s, 3 re-requests without progress",
		);
		assert.equal(requests(node).length, 4);
	});

	it("the link dropped mid-stream fails the attempt; the next one resumes at the saved batch boundary", () => {
		node = new SimNode({ota: STREAM});
		node.streamFault = (answers, request) => {
			if (request === 2) {
				node!.timers.set(() => node!.broker.dropAll("connection reset by the test"), 0);
				return answers.slice(0, 3);
			}
			return answers;
		};
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-drop", V2, "2.0.0", {stream: true}));
		finishInstall(node, "job-drop");
		// (reported while the link was down: the log has it; the reporter delivers the latest status)
		assert.ok(
			node.log
				.messages()
				.includes(
					"OTA status failed: OTA Attempt 1/3 failed: MQTT link lost during the stream download (connection reset by the test) (job job-drop)",
				),
		);
		// attempt 2 starts at block 32: the checkpoint of the second batch (2 × 16 × 4096 bytes)
		assert.deepEqual(
			requests(node).map(request => request.offset),
			[0, 16, 32, 32],
		);
	});

	it("a power cut mid-stream: after the reboot and a new approval the download resumes from the saved batch", () => {
		node = new SimNode({ota: STREAM});
		node.streamFault = (answers, request) => (request === 1 ? answers.slice(0, 5) : answers);
		node.powerOn();
		const job = jobFor(node, "job-power", V2, "2.0.0", {stream: true});
		node.offerAndApprove(job);
		node.until(() => node!.streamRequests === 2, "the second batch");
		node.advance(1000);
		// the power is gone: nothing is written any more (no checkpoint at the stop)
		node.store.failSet = () => true;
		node.powerOff();
		node.store.failSet = undefined;
		node.streamFault = undefined;
		node.powerOn();
		node.offerAndApprove(job);
		finishInstall(node, "job-power");
		const offsets = requests(node).map(request => request.offset);
		// blocks 16..20 were written after the checkpoint of the first batch: they are fetched again
		assert.deepEqual(offsets.slice(0, 2), [0, 16]);
		assert.equal(offsets[2], 16, "resumed at block 16, not 0");
		assert.ok(node.log.messages().includes("Resuming the download at byte 65536"));
	});

	it("a stream whose image fails the checks is rejected at once (no retry), like the HTTPS job", () => {
		node = new SimNode({ota: STREAM});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-same", V1, "1.0.0", {stream: true}));
		node.until(() => node!.last("job-same")?.status === "rejected", "the rejection");
		assert.equal(node.last("job-same")!.additional_info, "Same version received");
		assert.equal(requests(node).length, 1);
	});

	it("a job without stream_id is reported failed at once with the reference's text and never offered", () => {
		node = new SimNode({ota: STREAM});
		node.powerOn();
		node.job = jobFor(node, "job-nostream", V2, "2.0.0");
		node.command("check");
		node.until(() => node!.last("job-nostream") !== undefined, "the report");
		assert.deepEqual(
			node
				.statuses()
				.filter(status => status.ota_job_id === "job-nostream")
				.map(status => [status.status, status.additional_info]),
			[["failed", "Aborted. Stream ID not found in JSON"]],
		);
		assert.equal(node.firmware!.ota.offer, undefined);
	});
});
