import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {makeTestPki} from "../host/pki";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {buildAppImage} from "../host/tools/app-image";
import {SimDevice} from "./support/device-rig";
import {fixturePath} from "./support/ota-rig";
import {sharedFixturesPresent} from "./support/shared-fixtures";
import {statusHistory, SUCCESSFUL_INSTALL} from "./support/status-history";
import {waitUntil} from "./support/wait";

const v1 = fixturePath("synthetic/app-1.0.0.bin");
const v2 = fixturePath("synthetic/app-2.0.0.bin");

let cloud: Cloud;
let device: SimDevice | undefined;
afterEach(async () => {
	device?.close();
	device = undefined;
	await cloud?.close();
});

async function publish(image: string | Uint8Array, nodeId: string) {
	const added = await cloud.addImage(typeof image === "string" ? new Uint8Array(readFileSync(image)) : image);
	return cloud.createJob({imageId: added.id, nodes: [nodeId]});
}

const texts = (nodeId: string, jobId: string) => statusHistory(cloud, nodeId, jobId);

describe("firmware update engine against a real HTTP(S) server and the simulated flash", function () {
	this.timeout(60_000);

	it("installs a valid image over HTTP: download, verify, switch, reboot, confirm, success", async () => {
		cloud = await startCloud();
		device = new SimDevice(cloud, {nodeId: "install-1", image: v1});
		const job = await publish(v2, device.nodeId);
		device.powerOn();
		await device.approveWhenOffered(job.id);
		await cloud.waitForStatus(device.nodeId, job.id, "success", 20_000);
		assert.equal(device.version, "2.0.0");
		assert.deepEqual(
			device.boots.map(b => [b.label, b.info.version, b.state]),
			[
				["ota_0", "1.0.0", "valid"],
				["ota_1", "2.0.0", "pending-verify"],
			],
		);
		assert.deepEqual(texts(device.nodeId, job.id), SUCCESSFUL_INSTALL);
		await waitUntil(() => device!.firmware?.ota.state === "idle", "confirmation");
		assert.equal(device.firmware!.ota.state, "idle");
		device.powerOff();
		const again = device.inspect();
		assert.deepEqual([again.info.version, again.state], ["2.0.0", "valid"], "confirmed image stays");
	});

	it("installs over HTTPS with the cloud's CA, following a redirect", async () => {
		const pkiDir = mkdtempSync(join(tmpdir(), "rmx-pki-"));
		try {
			const pki = makeTestPki(pkiDir, "install-2");
			cloud = await startCloud({tls: {key: pki.serverKey, cert: pki.serverCert}, otaUrlScheme: "https"});
			device = new SimDevice(cloud, {nodeId: "install-2", image: v1, httpCa: pki.caCert});
			const job = await publish(v2, device.nodeId);
			cloud.faults.inject({kind: "redirect"});
			device.powerOn();
			await device.approveWhenOffered(job.id);
			await cloud.waitForStatus(device.nodeId, job.id, "success", 20_000);
			assert.equal(device.version, "2.0.0");
			assert.match(cloud.job(job.id) ? cloud.imageUrl(cloud.image(job.imageId)!) : "", /^https:/);
		} finally {
			rmSync(pkiDir, {recursive: true, force: true});
		}
	});

	const refusals: [string, string | Uint8Array, string, number?][] = [
		["another project", fixturePath("synthetic/app-other-project.bin"), "Project Name mismatch"],
		["the running version", v1, "Same version received"],
		[
			"another chip",
			fixturePath("synthetic/app-2.0.0-esp32s3.bin"),
			"Chip revision mismatch (the image is for esp32s3, this chip is esp32)",
		],
		// cross-check lane (tests/support/shared-fixtures.ts): a real ESP-IDF image of another chip
		...(sharedFixturesPresent
			? [
					[
						"a real image of another project and chip",
						fixturePath("real/esp32s3-hello_world.bin"),
						"Project Name mismatch",
					] as [string, string, string],
				]
			: []),
		["a lower secure version", fixturePath("synthetic/app-3.0.0-secure2.bin"), "Lower secure version received", 3],
	];
	for (const [what, image, text, secureVersion] of refusals) {
		it(`rejects ${what}: "${text}", nothing written, no retry, the old firmware stays`, async () => {
			cloud = await startCloud();
			device = new SimDevice(cloud, {nodeId: "refuse-1", image: v1, secureVersion});
			const job = await publish(image, device.nodeId);
			device.powerOn();
			await device.approveWhenOffered(job.id);
			await cloud.waitForStatus(device.nodeId, job.id, "rejected", 10_000);
			assert.deepEqual(texts(device.nodeId, job.id), [
				"delayed: Waiting for Approval",
				"in-progress: Starting OTA Upgrade (HTTPS attempt 1/3)",
				`rejected: ${text}`,
			]);
			await waitUntil(() => device!.firmware?.ota.busy === false, "the end of the job");
			assert.equal(device.boots.length, 1, "no reboot");
			device.powerOff();
			assert.equal(device.inspect().info.version, "1.0.0");
		});
	}

	it("fails each attempt of an image with a bad hash (Image validation failed), never switching the boot slot", async () => {
		cloud = await startCloud();
		device = new SimDevice(cloud, {nodeId: "badhash-1", image: v1});
		const bytes = new Uint8Array(readFileSync(v2));
		bytes[bytes.length - 1] ^= 0x01;
		const job = await publish(bytes, device.nodeId);
		device.powerOn();
		await device.approveWhenOffered(job.id);
		await cloud.waitForStatus(
			device.nodeId,
			job.id,
			r => r.additionalInfo.startsWith("OTA Attempt 3/3 failed"),
			15_000,
		);
		const failures = texts(device.nodeId, job.id).filter(t => t.startsWith("failed"));
		assert.equal(failures.length, 3);
		for (const failure of failures)
			assert.match(failure, /^failed: OTA Attempt \d\/3 failed: Image validation failed/);
		device.powerOff();
		assert.equal(device.inspect().info.version, "1.0.0");
	});

	it("resumes after the connection is cut at 20 different offsets and ends with the valid image", async () => {
		cloud = await startCloud();
		const size = readFileSync(v2).length;
		const offsets = Array.from({length: 20}, (_, i) => Math.floor(((i + 0.5) * size) / 20));
		for (const [index, offset] of offsets.entries()) {
			device = new SimDevice(cloud, {nodeId: `cut-${index}`, image: v1});
			const job = await publish(v2, device.nodeId);
			const downloads: number[] = [];
			const listener = (event: {start: number}) => downloads.push(event.start);
			cloud.events.on("download", listener);
			cloud.faults.inject({kind: "cut", afterBytes: offset});
			device.powerOn();
			await device.approveWhenOffered(job.id);
			await cloud.waitForStatus(device.nodeId, job.id, "success", 20_000);
			cloud.events.off("download", listener);
			assert.equal(device.version, "2.0.0", `cut at ${offset}`);
			const failed = texts(device.nodeId, job.id).filter(t => t.startsWith("failed"));
			assert.equal(failed.length, 1, `one failed attempt for the cut at ${offset}`);
			assert.equal(downloads.length, 2);
			assert.equal(downloads[0], 0);
			assert.equal(
				downloads[1],
				offset - (offset % 4096),
				`the second attempt resumes at the last full sector before ${offset}`,
			);
			device.close();
			device = undefined;
		}
	});

	it("starts again from 0 when the server ignores the Range request", async () => {
		cloud = await startCloud();
		device = new SimDevice(cloud, {nodeId: "norange-1", image: v1});
		const job = await publish(v2, device.nodeId);
		cloud.faults.inject({kind: "cut", afterBytes: 40_000});
		cloud.faults.inject({kind: "ignore-range"});
		device.powerOn();
		await device.approveWhenOffered(job.id);
		await cloud.waitForStatus(device.nodeId, job.id, "success", 20_000);
		assert.ok(
			device.log
				.messages("info")
				.includes(
					"The server sends the image from byte 0 (Range ignored or refused); downloading from the start",
				),
		);
	});

	it("aborts a stalled transfer after the stall timeout and retries", async () => {
		cloud = await startCloud();
		device = new SimDevice(cloud, {nodeId: "stall-1", image: v1, ota: {downloadStallSeconds: 1}});
		const job = await publish(v2, device.nodeId);
		cloud.faults.inject({kind: "stall", afterBytes: 10_000});
		device.powerOn();
		await device.approveWhenOffered(job.id);
		await cloud.waitForStatus(device.nodeId, job.id, "success", 20_000);
		assert.ok(
			texts(device.nodeId, job.id).some(text =>
				/^failed: OTA Attempt 1\/3 failed: no data for 1 s from 127\.0\.0\.1:\d+$/.test(text),
			),
			texts(device.nodeId, job.id).join("\n"),
		);
	});

	it("reports HTTP errors as failed attempts and fetches again after all attempts failed", async () => {
		cloud = await startCloud();
		device = new SimDevice(cloud, {nodeId: "http404-1", image: v1});
		const job = await publish(v2, device.nodeId);
		cloud.faults.inject({kind: "status", status: 404}, {times: 3});
		device.powerOn();
		await device.approveWhenOffered(job.id);
		const place = new URL(cloud.httpUrl).host;
		await cloud.waitForStatus(
			device.nodeId,
			job.id,
			r => r.additionalInfo === `OTA Attempt 3/3 failed: HTTP status 404 from ${place}`,
			10_000,
		);
		assert.deepEqual(
			texts(device.nodeId, job.id).filter(t => t.startsWith("failed")),
			[1, 2, 3].map(n => `failed: OTA Attempt ${n}/3 failed: HTTP status 404 from ${place}`),
		);
		await waitUntil(() => device!.firmware?.ota.busy === false, "the end of the job");
		assert.ok(device.log.messages("warn").some(m => m.includes("fetching again in 5 min")));
	});

	it("refuses an image larger than the OTA slot before writing", async () => {
		cloud = await startCloud();
		device = new SimDevice(cloud, {nodeId: "big-1", image: v1});
		const job = await publish(buildAppImage({version: "9.0.0", payloadSize: 0x1e0000}), device.nodeId);
		device.powerOn();
		await device.approveWhenOffered(job.id);
		const report = await cloud.waitForStatus(device.nodeId, job.id, "rejected", 10_000);
		assert.match(report.additionalInfo, /^Image too large for the OTA partition/);
	});
});
