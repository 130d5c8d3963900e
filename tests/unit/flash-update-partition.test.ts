/*
 * FlashUpdatePartition: esp_ota_begin/write/end/abort semantics on the host flash.
 */
import assert from "node:assert/strict";
import {createDigest} from "../../host/adapters/digest";
import {FlashBootControl} from "../../idf/boot-control";
import {boot, provision, type BootResult} from "../../idf/bootloader";
import {SECTOR_SIZE} from "../../host/adapters/flash";
import type {HostDevice} from "../../host/adapters/host-device";
import {OtaImgState} from "../../idf/otadata";
import {FlashUpdatePartition} from "../../idf/update-partition";
import {fixtureCopy, withByte} from "../support/image-fixtures";
import {tempDevice, type TempDevice} from "../support/host-device";

const v1 = "synthetic/app-1.0.0.bin";
const v2 = "synthetic/app-2.0.0.bin";

function writeAll(update: FlashUpdatePartition, image: Uint8Array, from = 0, chunk = 1500): void {
	for (let at = from; at < image.length; at += chunk)
		update.write(image.subarray(at, Math.min(image.length, at + chunk)));
}

describe("host update partition (esp_ota_*)", () => {
	let temp: TempDevice;
	let device: HostDevice;
	let booted: BootResult;
	const otadataBytes = () => device.otadata.partition.read(0, 2 * SECTOR_SIZE);
	beforeEach(() => {
		temp = tempDevice();
		device = temp.open();
		provision(device, fixtureCopy(v1));
		booted = boot(device, createDigest);
	});
	afterEach(() => temp.dispose());

	it("writes the next slot and switches the boot choice to it, state NEW, on end()", () => {
		const update = new FlashUpdatePartition(device, booted.slot, createDigest);
		assert.equal(update.targetSlot, 1);
		assert.equal(update.capacity, device.slots[1].size);
		assert.equal(update.begin(0), 0);
		const image = fixtureCopy(v2);
		writeAll(update, image);
		assert.equal(update.written, image.length);
		assert.equal(device.otadata.bootSlot(2), 0);
		update.end();
		assert.equal(device.otadata.bootSlot(2), 1);
		assert.equal(device.otadata.stateOfSlot(1, 2), OtaImgState.NEW);
		assert.deepEqual(device.slots[1].read(0, image.length), image);
		assert.equal(boot(device, createDigest).info.version, "2.0.0");
	});

	it("targets ota_0 when running from ota_1", () => {
		const update = new FlashUpdatePartition(device, 1, createDigest);
		assert.equal(update.targetSlot, 0);
	});

	it("refuses to begin while the running image is pending verification, and allows it once valid", () => {
		const update = new FlashUpdatePartition(device, booted.slot, createDigest);
		update.begin(0);
		writeAll(update, fixtureCopy(v2));
		update.end();
		const fresh = boot(device, createDigest);
		assert.equal(fresh.state, "pending-verify");
		const next = new FlashUpdatePartition(device, fresh.slot, createDigest);
		assert.throws(() => next.begin(0), /ESP_ERR_OTA_ROLLBACK_INVALID_STATE/);
		new FlashBootControl(device, fresh, {restart: () => undefined}, createDigest).markValid();
		assert.equal(next.begin(0), 0);
		assert.equal(next.targetSlot, 0);
	});

	const badImages: [string, () => Uint8Array, RegExp][] = [
		[
			"a bad hash",
			() => {
				const image = fixtureCopy(v2);
				return withByte(image, image.length - 1, image[image.length - 1] ^ 1);
			},
			/SHA-256 mismatch/,
		],
		[
			"a bad checksum",
			() => {
				const image = fixtureCopy(v2);
				return withByte(image, image.length - 33, image[image.length - 33] ^ 1);
			},
			/checksum mismatch/,
		],
		[
			"a truncated image (the erased rest of the slot reads as a segment header of 0xFFFFFFFF)",
			() => fixtureCopy(v2).subarray(0, 40000),
			/length 0xFFFFFFFF|truncated image/,
		],
		[
			"an image missing its last byte",
			() => {
				const image = fixtureCopy(v2);
				return image.subarray(0, image.length - 1);
			},
			/SHA-256 mismatch|truncated image/,
		],
		["an image for another chip", () => fixtureCopy("synthetic/app-2.0.0-esp32s3.bin"), /chip esp32s3/],
	];
	for (const [what, make, reason] of badImages) {
		it(`refuses ${what} at end() and leaves otadata untouched`, () => {
			const before = otadataBytes();
			const update = new FlashUpdatePartition(device, booted.slot, createDigest);
			update.begin(0);
			writeAll(update, make());
			assert.throws(
				() => update.end(),
				(e: unknown) =>
					e instanceof Error && /^Image validation failed: /.test(e.message) && reason.test(e.message),
			);
			assert.deepEqual(otadataBytes(), before);
			const again = boot(device, createDigest);
			assert.equal(again.label, "ota_0");
			assert.equal(again.info.version, "1.0.0");
		});
	}

	it("refuses a first byte other than the image magic, and writes beyond the slot", () => {
		const update = new FlashUpdatePartition(device, booted.slot, createDigest);
		update.begin(0);
		assert.throws(
			() => update.write(new Uint8Array([0x00, 0x01])),
			/invalid magic byte \(expected 0xE9, saw 0x00\)/,
		);
		assert.equal(update.written, 0);
		update.write(fixtureCopy(v2).subarray(0, 100));
		assert.throws(() => update.write(new Uint8Array(update.capacity)), /past the end of ota_1/);
		assert.throws(
			() => new FlashUpdatePartition(device, booted.slot, createDigest).write(new Uint8Array([0xe9])),
			/without begin/,
		);
		assert.throws(() => new FlashUpdatePartition(device, booted.slot, createDigest).end(), /without begin/);
	});

	it("refuses end() with nothing written", () => {
		const update = new FlashUpdatePartition(device, booted.slot, createDigest);
		update.begin(0);
		assert.throws(() => update.end(), /nothing was written/);
	});

	it("leaves otadata untouched on abort()", () => {
		const before = otadataBytes();
		const update = new FlashUpdatePartition(device, booted.slot, createDigest);
		update.begin(0);
		writeAll(update, fixtureCopy(v2));
		update.abort();
		assert.deepEqual(otadataBytes(), before);
		assert.throws(() => update.end(), /without begin/);
	});

	it("erases lazily, sector by sector, as the writes advance", () => {
		const slot = device.slots[1];
		// Leave an old image in ota_1 first.
		slot.erase(0, 32 * SECTOR_SIZE);
		slot.write(0, fixtureCopy(v1));
		const old = slot.read(5 * SECTOR_SIZE, 16);
		const update = new FlashUpdatePartition(device, booted.slot, createDigest);
		update.begin(0);
		update.write(fixtureCopy(v2).subarray(0, 100));
		// Sector 0 was erased and rewritten; sector 5 still holds the old bytes.
		assert.deepEqual(slot.read(0, 100), fixtureCopy(v2).subarray(0, 100));
		assert.ok(slot.read(100, 16).every(b => b === 0xff));
		assert.deepEqual(slot.read(5 * SECTOR_SIZE, 16), old);
		update.write(fixtureCopy(v2).subarray(100, 5 * SECTOR_SIZE + 8));
		assert.ok(slot.read(5 * SECTOR_SIZE + 8, 16).every(b => b === 0xff));
	});

	it("resumes at a sector-aligned offset it has written, keeping the earlier bytes", () => {
		const image = fixtureCopy(v2);
		const first = new FlashUpdatePartition(device, booted.slot, createDigest);
		first.begin(0);
		writeAll(first, image.subarray(0, 3 * SECTOR_SIZE + 700));
		first.abort();
		assert.equal(first.begin(2 * SECTOR_SIZE), 2 * SECTOR_SIZE);
		assert.equal(first.written, 2 * SECTOR_SIZE);
		// Only the rest is written: the image verifies only if the first 8 KiB were kept.
		writeAll(first, image, 2 * SECTOR_SIZE);
		first.end();
		assert.equal(boot(device, createDigest).info.version, "2.0.0");
	});

	it("starts again from 0 for an unaligned offset or one beyond what it wrote", () => {
		const image = fixtureCopy(v2);
		const update = new FlashUpdatePartition(device, booted.slot, createDigest);
		update.begin(0);
		writeAll(update, image.subarray(0, 2 * SECTOR_SIZE + 10));
		update.abort();
		assert.equal(update.begin(1000), 0);
		writeAll(update, image.subarray(0, 2 * SECTOR_SIZE + 10));
		update.abort();
		assert.equal(update.begin(3 * SECTOR_SIZE), 0);
		assert.equal(update.begin(-4096), 0);
		assert.equal(update.begin(update.capacity), 0);
	});

	it("resumes after a restart of the process like esp_ota_resume, trusting the stored offset, and end() still judges the whole image", () => {
		const image = fixtureCopy(v2);
		const first = new FlashUpdatePartition(device, booted.slot, createDigest);
		first.begin(0);
		writeAll(first, image.subarray(0, 4 * SECTOR_SIZE));
		// Power cycle: a new device object and a new partition object.
		const again = temp.open();
		const rebooted = boot(again, createDigest);
		const second = new FlashUpdatePartition(again, rebooted.slot, createDigest);
		assert.equal(second.begin(4 * SECTOR_SIZE), 4 * SECTOR_SIZE);
		writeAll(second, image, 4 * SECTOR_SIZE);
		second.end();
		// A wrong resume point is caught by the verification.
		const third = new FlashUpdatePartition(temp.open(), 1, createDigest);
		const fresh = boot(again, createDigest);
		assert.equal(fresh.info.version, "2.0.0");
		new FlashBootControl(again, fresh, {restart: () => undefined}, createDigest).markValid();
		assert.equal(third.begin(8 * SECTOR_SIZE), 8 * SECTOR_SIZE);
		writeAll(third, fixtureCopy("synthetic/app-1.1.0.bin"), 8 * SECTOR_SIZE);
		assert.throws(() => third.end(), /Image validation failed/);
	});
});
