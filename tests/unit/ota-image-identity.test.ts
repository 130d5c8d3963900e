/*
 * Issue 17, parts 2 and 5, through the simulated node (real firmware and update engine on the host
 * flash model, in-memory MQTT and HTTP, virtual clock): an offered, approved job whose image is
 * another app, for another chip or chip revision, or not the version the user approved ends
 * `rejected` at the header (docs/protocol.md §5.12) with a text naming what is wrong, after one
 * download and with nothing written to the update slot; two builds of different versions (both
 * with the firmware identity, docs/protocol.md §7.5) update each other.
 */
import assert from "node:assert/strict";
import {join} from "node:path";
import {writeEfuse} from "../../host/adapters/efuse";
import {buildAppImage} from "../../host/tools/app-image";
import {FIRMWARE_NAME} from "../../host/tools/firmware-identity";
import {CHIP_IDS} from "../../ota/image";
import {jobFor, SimNode, V1} from "./support/sim-node";

let node: SimNode | undefined;
afterEach(() => {
	node?.close();
	node = undefined;
});

const SUCCESS = "success: OTA Upgrade finished and verified successfully";
const SLOT_PROBE = 64 * 1024;

/** Offers and approves `image` as job `jobId` naming `fwVersion`, and waits until the job ended. */
function offerImage(sim: SimNode, jobId: string, image: Uint8Array, fwVersion: string): void {
	sim.offerAndApprove(jobFor(sim, jobId, image, fwVersion));
	sim.until(() => sim.firmware!.ota.state === "idle" || sim.restarts > 0, "the job to end");
}

/** The update slot (ota_1) holds no byte of the refused image: erased flash. */
function slotUntouched(sim: SimNode): boolean {
	return sim
		.device!.slot(1)
		.read(0, SLOT_PROBE)
		.every(byte => byte === 0xff);
}

function assertRejectedAtHeader(sim: SimNode, jobId: string, text: string | RegExp): void {
	const texts = sim.texts(jobId);
	const last = sim.last(jobId)!;
	assert.equal(last.status, "rejected", texts.join("\n"));
	if (typeof text === "string") assert.equal(last.additional_info, text);
	else assert.match(last.additional_info, text);
	assert.ok(!texts.some(line => line.startsWith("failed")), "no failed attempt: " + texts.join(" / "));
	assert.ok(!texts.includes("in-progress: Downloading Firmware Image"), "the header was not accepted");
	assert.equal(
		sim.http.requests.filter(request => request.url.endsWith(`/${jobId}.bin`)).length,
		1,
		"downloaded once, not retried",
	);
	assert.equal(sim.restarts, 0, "nothing installed");
	assert.ok(slotUntouched(sim), "nothing written to the update slot");
	assert.equal(sim.device!.otadata.bootSlot(2), 0, "the boot choice is unchanged");
}

describe("the image is what the user approved (issue 17)", () => {
	it("another Moddable app (no firmware identity) is rejected: Project Name mismatch, naming the app", () => {
		node = new SimNode();
		node.powerOn();
		offerImage(
			node,
			"job-other-app",
			buildAppImage({version: "2.0.0", identity: false, payloadSize: 150_000}),
			"2.0.0",
		);
		assertRejectedAtHeader(
			node,
			"job-other-app",
			`Project Name mismatch: rainmaker-ota-xs 2.0.0 is another app (no ${FIRMWARE_NAME} identity at offset 288)`,
		);
	});

	it("an image of another firmware identity is rejected, naming both", () => {
		node = new SimNode();
		node.powerOn();
		offerImage(
			node,
			"job-identity",
			buildAppImage({version: "2.0.0", identity: "thermostat", payloadSize: 150_000}),
			"2.0.0",
		);
		assertRejectedAtHeader(
			node,
			"job-identity",
			`Project Name mismatch: the image is firmware thermostat, this node runs ${FIRMWARE_NAME}`,
		);
	});

	it("an image for another chip is rejected (Chip revision mismatch), downloaded once, not failed three times", () => {
		node = new SimNode();
		node.powerOn();
		offerImage(
			node,
			"job-chip",
			buildAppImage({version: "2.0.0", chipId: CHIP_IDS.esp32s3, payloadSize: 150_000}),
			"2.0.0",
		);
		assertRejectedAtHeader(
			node,
			"job-chip",
			"Chip revision mismatch (the image is for esp32s3, this chip is esp32)",
		);
	});

	it("an image for a newer chip revision than the chip's eFuse says is rejected; one within the range installs", () => {
		node = new SimNode();
		writeEfuse(join(node.dir, "flash.bin"), {chip: "esp32", chipRevision: "v1.0"});
		node.powerOn();
		offerImage(
			node,
			"job-rev",
			buildAppImage({version: "2.0.0", minChipRevFull: 300, payloadSize: 150_000}),
			"2.0.0",
		);
		assertRejectedAtHeader(
			node,
			"job-rev",
			"Chip revision mismatch (the image needs v3.0 or later, this chip is v1.0)",
		);
		offerImage(
			node,
			"job-rev-max",
			buildAppImage({version: "2.0.1", maxChipRevFull: 99, payloadSize: 150_000}),
			"2.0.1",
		);
		assert.equal(
			node.last("job-rev-max")?.additional_info,
			"Chip revision mismatch (the image supports up to v0.99, this chip is v1.0)",
		);
		offerImage(
			node,
			"job-rev-ok",
			buildAppImage({version: "2.0.2", minChipRevFull: 100, maxChipRevFull: 399, payloadSize: 150_000}),
			"2.0.2",
		);
		assert.ok(node.restarts > 0, node.texts("job-rev-ok").join("\n"));
	});

	it("an image whose descriptor version is not the approved fw_version is rejected at the header, never reported success", () => {
		node = new SimNode();
		node.powerOn();
		offerImage(node, "job-label", buildAppImage({version: "1.1.0", payloadSize: 150_000}), "1.0.1-security");
		assertRejectedAtHeader(
			node,
			"job-label",
			"Version mismatch: the image is 1.1.0, the approved job is 1.0.1-security",
		);
		assert.ok(!node.statuses().some(status => status.status === "success"));
	});

	it("two builds of different versions, both with the identity, update each other", () => {
		const a = buildAppImage({version: "0.1.0", payloadSize: 60_000});
		const b = buildAppImage({version: "0.2.0", payloadSize: 80_000});
		node = new SimNode({factory: a});
		node.powerOn();
		for (const [jobId, image, version] of [
			["job-up", b, "0.2.0"],
			["job-down", a, "0.1.0"],
			["job-up-again", b, "0.2.0"],
		] as const) {
			offerImage(node, jobId, image, version);
			node.until(() => node!.restarts > 0, "the reboot request");
			node.restarts = 0;
			node.reboot();
			node.until(() => node!.last(jobId)?.status === "success", `${jobId} success`);
			assert.equal(node.boots.at(-1)?.info.version, version);
			assert.equal(node.boots.at(-1)?.info.identity, FIRMWARE_NAME);
			assert.equal(node.texts(jobId).at(-1), SUCCESS);
		}
	});

	it("the same build offered again is still refused: Same version received", () => {
		node = new SimNode();
		node.powerOn();
		offerImage(node, "job-same", V1, "1.0.0");
		assertRejectedAtHeader(node, "job-same", "Same version received");
	});
});
