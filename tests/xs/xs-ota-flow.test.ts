/*
 * The user-approval OTA flow inside XS: startFirmware with the bridged ports, a real broker with
 * a scripted cloud, a real HTTP server, and the update pipeline writing into the counting,
 * verifying partition stand-in. The 1.5 MB image streams through XS under an allocation limit.
 */
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {fileImage} from "./harness/image-server";
import {fixture as facts, fixtureImage} from "../support/image-fixtures";
import {approveOffered, md5OfFile, offerFor, startXsOtaRig, type XsOtaRig} from "./harness/ota-rig";

const fixture = (path: string) => ({path: fixtureImage(path), facts: facts(path)});

describe("real XS lane: user-approval OTA flow", function () {
	this.timeout(60000);
	let rig: XsOtaRig | undefined;
	afterEach(async () => {
		await rig?.close();
		rig = undefined;
	});

	it("offers the job and waits; installs it only after approval; verifies and reboots", async () => {
		const {path, facts} = fixture("synthetic/app-2.0.0.bin");
		const image = fileImage(path);
		rig = await startXsOtaRig({images: {"app.bin": image}});
		const job = offerFor(rig, "job-xs-1", "app.bin", image, "2.0.0", md5OfFile(readFileSync(path)));
		rig.offer = job;
		await rig.guest.advance(5000);
		await rig.until(() => rig!.statuses().some(s => s.status === "delayed"), "the offer");
		await rig.guest.settle();
		assert.deepEqual(
			rig.statuses().map(s => [s.ota_job_id, s.status, s.additional_info]),
			[["job-xs-1", "delayed", "Waiting for Approval"]],
		);
		assert.equal((await rig.state()).offer, "job-xs-1");
		assert.equal(rig.server.requests.size, 0, "nothing downloaded before approval");
		assert.deepEqual(rig.guest.partition.calls, []);

		await approveOffered(rig, job);
		await rig.until(() => rig!.guest.partition.calls.includes("end"), "the end of the install");
		await rig.guest.settle();
		assert.equal(rig.guest.partition.sha256, facts.sha256, "the slot holds the image, byte for byte");
		assert.equal(rig.guest.partition.written, facts.size);
		assert.deepEqual(rig.guest.boot.calls, [], "the reboot waits for its delay");
		await rig.guest.advance(10000);
		assert.deepEqual(rig.guest.boot.calls, ["restart"]);
		const statuses = rig
			.statuses()
			.filter(s => s.ota_job_id === "job-xs-1")
			.map(s => s.additional_info);
		assert.equal(statuses.at(-1), "Rebooting into new firmware (after 1 HTTPS attempt)");
		assert.ok(statuses.includes("Firmware Image download complete"), statuses.join("\n"));
		assert.equal(rig.server.requests.get("app.bin"), 1);
		assert.deepEqual(rig.guest.faults, []);
	});

	it("refuses an image of another project on its header: nothing written, job rejected", async () => {
		const {path} = fixture("synthetic/app-other-project.bin");
		const image = fileImage(path);
		rig = await startXsOtaRig({images: {"other.bin": image}});
		await approveOffered(rig, offerFor(rig, "job-xs-2", "other.bin", image, "9.9.9"));
		await rig.until(() => rig!.statuses().some(s => s.status === "rejected"), "the rejection");
		await rig.guest.settle();
		assert.equal(rig.guest.partition.writes, 0);
		assert.ok(!rig.guest.partition.calls.includes("end"));
		assert.deepEqual(rig.guest.boot.calls, []);
		assert.equal((await rig.state()).busy, false);
		assert.deepEqual(rig.guest.faults, []);
	});

	it("streams the 1.5 MB image through the pipeline in XS with the heap growth capped at 20 KB", async () => {
		const {path, facts} = fixture("synthetic/app-2.0.0-large.bin");
		assert.ok(facts.size > 1_500_000);
		const image = fileImage(path);
		rig = await startXsOtaRig({images: {"large.bin": image}});
		const job = offerFor(rig, "job-xs-3", "large.bin", image, "2.0.0-large", md5OfFile(readFileSync(path)));
		rig.offer = job;
		const idle = await rig.guest.memory({collect: true, reset: true});
		// Beyond this the worker aborts (not enough memory): an image buffer or a per-chunk leak fails here.
		await rig.guest.limitGrowth(20 * 1024);
		await approveOffered(rig, job);
		await rig.until(() => rig!.guest.partition.calls.includes("end"), "the end of the 1.5 MB install", 30000);
		await rig.guest.settle();
		assert.equal(rig.guest.partition.sha256, facts.sha256);
		assert.ok(
			rig.guest.partition.writes > facts.size / 1460,
			`written in device-sized chunks (${rig.guest.partition.writes} writes)`,
		);
		await rig.guest.advance(10000);
		assert.deepEqual(rig.guest.boot.calls, ["restart"]);
		const after = await rig.guest.memory({collect: true});
		const retained = after.chunks - idle.chunks + (after.slots - idle.slots) * after.slotSize;
		assert.ok(retained < 8 * 1024, `retained after the install: ${retained} bytes`);
		const state = await rig.state();
		assert.equal(state.openRequests, 0);
		assert.deepEqual(rig.guest.faults, []);
	});

	it("writes and verifies the bytes XS hands over: a byte flipped inside XS fails esp_ota_end's check, the retry installs", async () => {
		const {path, facts} = fixture("synthetic/app-2.0.0.bin");
		const image = fileImage(path);
		rig = await startXsOtaRig({images: {"app.bin": image}});
		await rig.guest.request("partition.corrupt", {write: 3});
		await approveOffered(rig, offerFor(rig, "job-xs-4", "app.bin", image, "2.0.0"));
		await rig.until(
			() => rig!.guest.partition.calls.filter(call => call === "end").length === 2,
			"two attempts",
			30000,
		);
		await rig.guest.settle();
		const infos = rig
			.statuses()
			.filter(s => s.ota_job_id === "job-xs-4")
			.map(s => `${s.status}: ${s.additional_info}`);
		assert.ok(
			infos.some(info => /^failed: .*Image validation failed/.test(info)),
			infos.join("\n"),
		);
		assert.equal(rig.guest.partition.sha256, facts.sha256, "the second attempt wrote the image byte for byte");
		assert.deepEqual(rig.guest.faults, []);
	});
});
