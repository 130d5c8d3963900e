/*
 * Benchmarks of the host simulator (issue 7, items 3 and 4), on a node process as a person runs it:
 * 3. approval to reboot for a 1.5 MB image, against a plain HTTP download of the same file to disk
 *    from the same server in the same run, as a ratio. Both go through a link of a device's speed
 *    (downloadBytesPerSecond): on loopback a download takes milliseconds and any ratio would only
 *    measure fixed costs. The node runs with request delay 0 and reboot delay 0, so the ratio is the
 *    pipeline's cost (MQTT round trip, header checks, flash writes, verification, boot switch).
 * 4. approval to the first firmware byte requested, with the seed's 1 s fetch delay.
 */
import {createWriteStream, mkdtempSync, rmSync} from "node:fs";
import {get} from "node:http";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pipeline} from "node:stream/promises";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {superviseNode} from "../host/sim/supervisor";
import {fixtureImage} from "../tests/support/image-fixtures";

const running = fixtureImage("synthetic/app-1.0.0.bin");
const large = fixtureImage("synthetic/app-2.0.0-large.bin");

export interface HostBenchResult {
	linkBytesPerSecond: number;
	imageBytes: number;
	plainSeconds: number;
	approvalToRebootSeconds: number;
	approvalToFirstByteSeconds: number;
}

async function plainDownload(url: string, file: string): Promise<number> {
	const started = performance.now();
	await new Promise<void>((resolve, reject) =>
		get(url, response => void pipeline(response, createWriteStream(file)).then(resolve, reject)).on(
			"error",
			reject,
		),
	);
	return (performance.now() - started) / 1000;
}

/** Boots a node, waits for the offer, approves at its console; returns seconds to the first byte requested and to the reboot. */
async function approvalRun(
	cloud: Cloud,
	dir: string,
	nodeId: string,
	imageId: string,
	requestDelay: string,
	stream = false,
): Promise<{firstByte: number; reboot: number}> {
	const job = await cloud.createJob({imageId, nodes: [nodeId], ...(stream ? {stream: true} : {})});
	let approvedAt = 0,
		firstByteAt = 0,
		rebootAt = 0;
	cloud.events.on("download", () => (firstByteAt ||= performance.now()));
	const node = superviseNode(
		[
			"--broker",
			cloud.mqttUrl,
			"--node-id",
			nodeId,
			"--flash-dir",
			join(dir, nodeId),
			"--image",
			running,
			"--fetch-delay",
			"0",
			"--request-delay",
			requestDelay,
			"--reboot-delay",
			"0",
			...(stream ? ["--transport", "mqtt-stream"] : []),
		],
		line => {
			if (line === "-- reset: booting again --") rebootAt ||= performance.now();
		},
	);
	try {
		await cloud.waitForStatus(nodeId, job.id, "delayed", 30_000);
		approvedAt = performance.now();
		node.send("ota start");
		await cloud.waitForStatus(nodeId, job.id, "success", 120_000);
	} finally {
		node.stop();
		await node.stopped;
	}
	if ((!stream && !firstByteAt) || !rebootAt) throw new Error("the update did not run");
	return {firstByte: (firstByteAt - approvedAt) / 1000, reboot: (rebootAt - approvedAt) / 1000};
}

export async function measureHostOta(quick: boolean): Promise<HostBenchResult> {
	const linkBytesPerSecond = 500 * 1024; // ESP32 plain HTTP on a LAN, docs/decisions.md §F4.2
	const dir = mkdtempSync(join(tmpdir(), "rmx-bench-"));
	const cloud = await startCloud({downloadBytesPerSecond: quick ? 4 * linkBytesPerSecond : linkBytesPerSecond});
	try {
		const image = quick ? fixtureImage("synthetic/app-2.0.0.bin") : large;
		const added = await cloud.addImage(image);
		const plainSeconds = await plainDownload(cloud.imageUrl(added), join(dir, "plain.bin"));
		const pipelineRun = await approvalRun(cloud, dir, "bench-node-3", added.id, "0");
		const delayRun = await approvalRun(cloud, dir, "bench-node-4", added.id, "1");
		return {
			linkBytesPerSecond: quick ? 4 * linkBytesPerSecond : linkBytesPerSecond,
			imageBytes: added.fileSize,
			plainSeconds,
			approvalToRebootSeconds: pipelineRun.reboot,
			approvalToFirstByteSeconds: delayRun.firstByte,
		};
	} finally {
		await cloud.close();
		rmSync(dir, {recursive: true, force: true});
	}
}

export interface StreamVsHttpsResult {
	readonly imageBytes: number;
	readonly httpsSeconds: number;
	readonly streamSeconds: number;
}

/**
 * Benchmark 10, host side: approval to reboot for the same image over HTTP and as an MQTT stream job
 * (4096-byte blocks, 16 per request), both on loopback without a link limit, so the ratio is the
 * stream's own cost: a GetStream round trip per 64 KB batch and one MQTT message per block.
 */
export async function measureStreamVsHttps(quick: boolean): Promise<StreamVsHttpsResult> {
	const dir = mkdtempSync(join(tmpdir(), "rmx-bench-"));
	const cloud = await startCloud();
	try {
		const image = quick ? fixtureImage("synthetic/app-2.0.0.bin") : large;
		const added = await cloud.addImage(image);
		const https = await approvalRun(cloud, dir, "bench-node-10h", added.id, "0");
		const stream = await approvalRun(cloud, dir, "bench-node-10s", added.id, "0", true);
		return {imageBytes: added.fileSize, httpsSeconds: https.reboot, streamSeconds: stream.reboot};
	} finally {
		await cloud.close();
		rmSync(dir, {recursive: true, force: true});
	}
}
