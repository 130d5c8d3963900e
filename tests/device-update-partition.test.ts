/*
 * device/esp32/update-partition.ts and device/esp32/boot-control.ts over the "flash" and "mc/ffi"
 * stand-ins, which follow esp_ota_* semantics (esp_ota_resume keeps what is below its offset,
 * esp_ota_end verifies the written image), with the real and synthetic ESP32 image fixtures.
 */
import {strict as assert} from "node:assert";
import {loadDevice} from "./support/moddable-loader";
import {fixtureBytes, fixture, withByte} from "./support/image-fixtures";
import {chip, resetChip} from "./support/moddable/esp32-chip";
import type {BootControl, UpdatePartition} from "../ota/ports";
import {parseImageHeader} from "../ota/image";

type PartitionModule = {OtaUpdatePartition: new () => UpdatePartition};
type BootModule = {FfiBootControl: new () => BootControl; RUNNING_HEADER_BYTES: number};

const SLOT = 0x1e0000;

function writeInChunks(partition: UpdatePartition, image: Uint8Array, size = 1024): void {
	for (let offset = 0; offset < image.length; offset += size) partition.write(image.subarray(offset, offset + size));
}

describe("device update partition (esp_ota_* through FFI, stand-in with esp_ota semantics)", () => {
	let OtaUpdatePartition: PartitionModule["OtaUpdatePartition"];
	const running = new Uint8Array(fixtureBytes("synthetic/app-1.0.0.bin"));
	const next = new Uint8Array(fixtureBytes("synthetic/app-1.1.0.bin"));

	before(async () => {
		({OtaUpdatePartition} = await loadDevice<PartitionModule>("esp32/update-partition"));
	});
	beforeEach(() => resetChip({running, slotBytes: SLOT}));

	it("takes its capacity from the next update partition", () => {
		assert.equal(new OtaUpdatePartition().capacity, SLOT);
	});

	it("writes a valid image, verifies it at end() and switches the boot partition", () => {
		const partition = new OtaUpdatePartition();
		assert.equal(partition.begin(0), 0);
		writeInChunks(partition, next);
		assert.equal(partition.written, next.length);
		assert.equal(chip.bootPartition, "running", "nothing switches before end()");
		partition.end();
		assert.equal(chip.bootPartition, "next");
		assert.deepEqual(chip.slot.subarray(0, next.length), next);
	});

	it("resumes an interrupted download with esp_ota_resume at a sector-aligned offset, keeping the bytes below it", () => {
		const partition = new OtaUpdatePartition();
		partition.begin(0);
		writeInChunks(partition, next.subarray(0, 3 * 4096 + 100));
		partition.abort();
		assert.equal(partition.begin(8192), 8192);
		assert.equal(partition.written, 8192);
		writeInChunks(partition, next.subarray(8192));
		partition.end();
		assert.equal(chip.bootPartition, "next");
		assert.deepEqual(chip.slot.subarray(0, next.length), next);
		assert.deepEqual(chip.otaCalls, ["begin", "resume 8192"]);
	});

	it("starts over (esp_ota_begin) for an offset that is not sector-aligned or lies outside the slot", () => {
		const partition = new OtaUpdatePartition();
		assert.equal(partition.begin(1000), 0);
		assert.equal(partition.begin(SLOT), 0);
		assert.deepEqual(chip.otaCalls, ["begin", "begin"]);
	});

	it("a wrong resume offset ends in a rejected image, not a bad boot (esp_ota_end verifies the whole image)", () => {
		const partition = new OtaUpdatePartition();
		partition.begin(0);
		writeInChunks(partition, next.subarray(0, 4096));
		partition.abort();
		partition.begin(8192); // claims more than was written: bytes 4096..8191 are erased
		writeInChunks(partition, next.subarray(8192));
		assert.throws(() => partition.end(), /ESP_ERR_OTA_VALIDATE_FAILED/);
		assert.equal(chip.bootPartition, "running");
	});

	it("keeps the boot choice when esp_ota_end rejects a corrupted image, with a clear error", () => {
		const partition = new OtaUpdatePartition();
		partition.begin(0);
		writeInChunks(partition, withByte(next, 600, next[600] ^ 0xff));
		assert.throws(
			() => partition.end(),
			/Image validation failed: esp_ota_end refused the image \(ESP_ERR_OTA_VALIDATE_FAILED\)/,
		);
		assert.equal(chip.bootPartition, "running");
		assert.equal(chip.otaOpen, false);
		partition.begin(0); // a new attempt is possible
		writeInChunks(partition, next);
		partition.end();
		assert.equal(chip.bootPartition, "next");
	});

	it("refuses an image longer than the slot before writing past it", () => {
		resetChip({running, slotBytes: 8192});
		const partition = new OtaUpdatePartition();
		partition.begin(0);
		partition.write(next.subarray(0, 8192));
		assert.throws(() => partition.write(next.subarray(8192, 8193)), /larger than the update partition/);
		assert.equal(chip.slotWritten, 8192);
	});

	it("cannot begin while the running image is pending verification (esp_ota_begin fails)", () => {
		resetChip({running, slotBytes: SLOT, runningState: 1});
		assert.throws(
			() => new OtaUpdatePartition().begin(0),
			/cannot open the update partition \(esp_ota_begin: ESP_ERR_OTA_ROLLBACK_INVALID_STATE\)/,
		);
	});

	it("reads back the bytes written so far (esp_partition_read), after a resume too; nothing beyond them, nothing while closed", () => {
		const partition = new OtaUpdatePartition();
		partition.begin(0);
		writeInChunks(partition, next.subarray(0, 3 * 4096 + 100));
		partition.abort();
		assert.throws(() => partition.read!(0, new Uint8Array(16)), /not open/);
		partition.begin(8192);
		const kept = new Uint8Array(8192);
		partition.read!(0, kept);
		assert.deepEqual(kept, next.subarray(0, 8192));
		assert.throws(() => partition.read!(8000, new Uint8Array(200)), /outside the 8192 bytes written/);
		writeInChunks(partition, next.subarray(8192, 20000));
		const piece = new Uint8Array(4096);
		partition.read!(12288, piece);
		assert.deepEqual(piece, next.subarray(12288, 16384));
		const view = new Uint8Array(8192).subarray(100, 200); // a view: the FFI call gets buffer + byteOffset
		partition.read!(300, view);
		assert.deepEqual(view, next.subarray(300, 400));
	});

	it("abort() leaves the running firmware as the boot choice; write without begin is an error", () => {
		const partition = new OtaUpdatePartition();
		assert.throws(() => partition.write(next.subarray(0, 10)), /not open/);
		partition.begin(0);
		writeInChunks(partition, next);
		partition.abort();
		assert.equal(chip.bootPartition, "running");
		assert.equal(chip.otaOpen, false);
		assert.throws(() => partition.end(), /not open/);
	});
});

describe("device boot control (FFI stand-in of native/otaplat_esp32.c, flash 'running')", () => {
	let FfiBootControl: BootModule["FfiBootControl"];
	let headerBytes: number;
	const running = new Uint8Array(fixtureBytes("synthetic/app-1.0.0.bin"));

	before(async () => {
		({FfiBootControl, RUNNING_HEADER_BYTES: headerBytes} = await loadDevice<BootModule>("esp32/boot-control"));
	});
	beforeEach(() => resetChip({running, slotBytes: SLOT}));

	it("reads the running image header, which parses to the image's project and version", () => {
		const header = new FfiBootControl().runningHeader();
		assert.equal(header.length, headerBytes);
		const info = parseImageHeader(header);
		const facts = fixture("synthetic/app-1.0.0.bin");
		assert.equal(info.projectName, facts.project_name);
		assert.equal(info.version, facts.version);
	});

	it("names the running partition as esp_ota_get_running_partition does, for ota status", () => {
		assert.equal(new FfiBootControl().runningSlot?.(), "ota_0");
		resetChip({running, slotBytes: SLOT, runningLabel: "ota_1"});
		assert.equal(new FfiBootControl().runningSlot?.(), "ota_1");
	});

	it("maps esp_ota_img_states_t to the port's states", () => {
		const boot = new FfiBootControl();
		const expected: [number, string][] = [
			[0, "new"],
			[1, "pending-verify"],
			[2, "valid"],
			[3, "invalid"],
			[4, "aborted"],
			[-1, "undefined"],
			[-2, "undefined"],
		];
		for (const [code, state] of expected) {
			chip.runningState = code;
			assert.equal(boot.runningState(), state);
		}
		chip.runningState = 7;
		assert.throws(() => boot.runningState(), /unknown image state 7/);
	});

	it("reads the update slot's otadata state (esp_ota_get_state_partition of the next update partition)", () => {
		const boot = new FfiBootControl();
		assert.equal(boot.updateSlotState!(), "undefined", "no otadata entry selects it (ESP_ERR_NOT_FOUND)");
		const expected: [number, string][] = [
			[0, "new"],
			[1, "pending-verify"],
			[2, "valid"],
			[3, "invalid"],
			[4, "aborted"],
			[-1, "undefined"],
		];
		for (const [code, state] of expected) {
			chip.updateSlotState = code;
			assert.equal(boot.updateSlotState!(), state);
		}
		chip.updateSlotState = 9;
		assert.throws(() => boot.updateSlotState!(), /unknown image state 9/);
	});

	it("marks a pending image valid", () => {
		chip.runningState = 1;
		const boot = new FfiBootControl();
		boot.markValid();
		assert.equal(boot.runningState(), "valid");
	});

	it("rolls back (the device reboots) and reports a refused rollback as an error", () => {
		chip.runningState = 1;
		const boot = new FfiBootControl();
		assert.throws(
			() => boot.rollback(),
			/refused/,
			"on the stand-in the call returns; the adapter must not pretend it worked",
		);
		assert.deepEqual(chip.events, ["rollback"]);
		resetChip({running, slotBytes: SLOT, runningState: 1, otherImageValid: false});
		assert.throws(() => boot.rollback(), /refused \(ESP_ERR_OTA_ROLLBACK_FAILED\)/);
		assert.deepEqual(chip.events, []);
	});

	it("restarts and reads the eFuse secure version", () => {
		chip.secureVersion = 2;
		const boot = new FfiBootControl();
		assert.equal(boot.minSecureVersion(), 2);
		boot.restart();
		assert.deepEqual(chip.events, ["restart"]);
	});
});
