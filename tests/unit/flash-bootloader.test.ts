/*
 * The simulated bootloader (ESP-IDF's selection and rollback rules) and the host BootControl.
 */
import assert from "node:assert/strict";
import {writeFileSync} from "node:fs";
import {createDigest} from "../../host/adapters/digest";
import {FlashBootControl, type RestartReason} from "../../idf/boot-control";
import {NoBootableImageError, boot, provision, type BootResult} from "../../idf/bootloader";
import {efusePath} from "../../host/adapters/efuse";
import {SECTOR_SIZE} from "../../host/adapters/flash";
import type {HostDevice} from "../../host/adapters/host-device";
import {OtaImgState, newEntry} from "../../idf/otadata";
import {FlashUpdatePartition} from "../../idf/update-partition";
import {fixtureCopy} from "../support/image-fixtures";
import {tempDevice, type TempDevice} from "../support/host-device";

const v1 = "synthetic/app-1.0.0.bin";
const v2 = "synthetic/app-2.0.0.bin";

/** Installs `image` through the update partition of the booted device (begin, write in 4 KiB chunks, end). */
function install(device: HostDevice, booted: BootResult, image: Uint8Array): void {
	const update = new FlashUpdatePartition(device, booted.slot, createDigest);
	update.begin(0);
	for (let at = 0; at < image.length; at += 4096) update.write(image.subarray(at, at + 4096));
	update.end();
}

describe("simulated bootloader", () => {
	let temp: TempDevice;
	let device: HostDevice;
	beforeEach(() => {
		temp = tempDevice();
		device = temp.open();
	});
	afterEach(() => temp.dispose());

	it("boots a factory-flashed ota_0 and records it as seq 1, VALID, as ESP-IDF does", () => {
		provision(device, fixtureCopy(v1));
		assert.equal(device.otadata.read()[0].seq, 0xffffffff);
		const booted = boot(device, createDigest);
		assert.equal(booted.label, "ota_0");
		assert.equal(booted.slot, 0);
		assert.equal(booted.offset, device.slots[0].partition.offset);
		assert.equal(booted.info.version, "1.0.0");
		assert.equal(booted.state, "valid");
		const [a, b] = device.otadata.read();
		assert.deepEqual([a.seq, a.state, b.seq], [1, OtaImgState.VALID, 0xffffffff]);
	});

	it("refuses to boot an empty flash", () => {
		assert.throws(
			() => boot(device, createDigest),
			(e: unknown) => e instanceof NoBootableImageError && /No bootable app/.test(e.message),
		);
	});

	it("turns NEW into PENDING_VERIFY at the first boot, and an unconfirmed image into ABORTED at the next, falling back", () => {
		provision(device, fixtureCopy(v1));
		install(device, boot(device, createDigest), fixtureCopy(v2));
		assert.equal(device.otadata.stateOfSlot(1, 2), OtaImgState.NEW);
		const first = boot(device, createDigest);
		assert.equal(first.label, "ota_1");
		assert.equal(first.info.version, "2.0.0");
		assert.equal(first.state, "pending-verify");
		assert.equal(device.otadata.stateOfSlot(1, 2), OtaImgState.PENDING_VERIFY);
		// The new app never confirmed: the next boot aborts it and starts the old one.
		const second = boot(device, createDigest);
		assert.equal(second.label, "ota_0");
		assert.equal(second.info.version, "1.0.0");
		assert.equal(second.state, "valid");
		assert.equal(device.otadata.stateOfSlot(1, 2), OtaImgState.ABORTED);
		assert.match(second.log.join("\n"), /marking as ABORTED/);
		// And stays there.
		assert.equal(boot(device, createDigest).label, "ota_0");
	});

	it("keeps a confirmed image across boots", () => {
		provision(device, fixtureCopy(v1));
		install(device, boot(device, createDigest), fixtureCopy(v2));
		const first = boot(device, createDigest);
		const control = new FlashBootControl(device, first, {restart: () => undefined}, createDigest);
		assert.equal(control.runningState(), "pending-verify");
		control.markValid();
		assert.equal(control.runningState(), "valid");
		for (let i = 0; i < 3; i++) {
			const again = boot(device, createDigest);
			assert.equal(again.label, "ota_1");
			assert.equal(again.state, "valid");
		}
	});

	it("lets the other sector win when the newest otadata sector is torn", () => {
		provision(device, fixtureCopy(v1));
		install(device, boot(device, createDigest), fixtureCopy(v2));
		// The switch wrote sector 1; tear it (erase done, write lost).
		device.otadata.partition.erase(SECTOR_SIZE, SECTOR_SIZE);
		const booted = boot(device, createDigest);
		assert.equal(booted.label, "ota_0");
		assert.equal(booted.state, "valid");
		// A bit flip in the entry (crc mismatch) has the same effect.
		device.otadata.writeSector(1, {
			...newEntry(2, OtaImgState.NEW),
			state: OtaImgState.NEW,
			crc: newEntry(3, 0).crc,
		});
		assert.equal(boot(device, createDigest).label, "ota_0");
	});

	it("falls back to the other slot when the selected image is corrupt", () => {
		provision(device, fixtureCopy(v1));
		install(device, boot(device, createDigest), fixtureCopy(v2));
		// Flip bits (writes can only clear bits) in the installed image after the switch.
		device.slots[1].write(0x400, new Uint8Array([0x00]));
		const booted = boot(device, createDigest);
		assert.equal(booted.label, "ota_0");
		assert.equal(booted.info.version, "1.0.0");
		assert.match(booted.log.join("\n"), /slot 1 is not bootable: checksum mismatch/);
	});

	it("also boots a higher slot when the selected lower one is corrupt, and gives up when none is bootable", () => {
		provision(device, fixtureCopy(v1));
		install(device, boot(device, createDigest), fixtureCopy(v2));
		// Select ota_0 again and break it: ota_1 (still holding 2.0.0) is tried next.
		device.otadata.select(0, 2, OtaImgState.VALID);
		device.slots[0].write(0, new Uint8Array([0x00]));
		const booted = boot(device, createDigest);
		assert.equal(booted.label, "ota_1");
		device.slots[1].write(0, new Uint8Array([0x00]));
		assert.throws(() => boot(device, createDigest), NoBootableImageError);
	});

	it("refuses an image built for another chip (the eFuse chip)", () => {
		provision(device, fixtureCopy("synthetic/app-2.0.0-esp32s3.bin"));
		assert.throws(() => boot(device, createDigest), /image is for chip esp32s3, this chip is esp32/);
		temp.dispose();
		temp = tempDevice();
		writeFileSync(efusePath(temp.flashFile), JSON.stringify({chip: "esp32s3"}));
		device = temp.open();
		provision(device, fixtureCopy("synthetic/app-2.0.0-esp32s3.bin"));
		assert.equal(boot(device, createDigest).info.chipId, 9);
	});

	it("provisioning refuses an image larger than ota_0", () => {
		assert.throws(() => provision(device, new Uint8Array(device.slots[0].size + 1)), /does not fit ota_0/);
	});

	describe("boot control", () => {
		it("rolls back: marks the running entry INVALID, restarts, and the old image boots", () => {
			provision(device, fixtureCopy(v1));
			install(device, boot(device, createDigest), fixtureCopy(v2));
			const booted = boot(device, createDigest);
			const restarts: RestartReason[] = [];
			const control = new FlashBootControl(
				device,
				booted,
				{restart: reason => restarts.push(reason)},
				createDigest,
			);
			assert.equal(control.rollbackPossible(), true);
			control.rollback();
			assert.deepEqual(restarts, ["rollback"]);
			assert.equal(device.otadata.stateOfSlot(1, 2), OtaImgState.INVALID);
			const after = boot(device, createDigest);
			assert.equal(after.label, "ota_0");
			assert.equal(after.info.version, "1.0.0");
			assert.equal(after.state, "valid");
		});

		it("refuses a rollback with nothing to roll back to, and leaves otadata alone", () => {
			provision(device, fixtureCopy(v1));
			const booted = boot(device, createDigest);
			const restarts: RestartReason[] = [];
			const control = new FlashBootControl(
				device,
				booted,
				{restart: reason => restarts.push(reason)},
				createDigest,
			);
			const before = device.otadata.partition.read(0, 2 * SECTOR_SIZE);
			assert.throws(() => control.rollback(), /Rollback is not possible/);
			assert.deepEqual(device.otadata.partition.read(0, 2 * SECTOR_SIZE), before);
			assert.deepEqual(restarts, []);
		});

		it("refuses a rollback when the older slot's image no longer verifies", () => {
			provision(device, fixtureCopy(v1));
			install(device, boot(device, createDigest), fixtureCopy(v2));
			const control = new FlashBootControl(
				device,
				boot(device, createDigest),
				{restart: () => undefined},
				createDigest,
			);
			device.slots[0].write(0x500, new Uint8Array([0]));
			assert.equal(control.rollbackPossible(), false);
			assert.throws(() => control.rollback(), /Rollback is not possible/);
		});

		it("gives the running header (through the identity block), the eFuse chip revision and secure version, and restarts through the hook", () => {
			provision(device, fixtureCopy(v1));
			const booted = boot(device, createDigest);
			const restarts: RestartReason[] = [];
			const control = new FlashBootControl(
				device,
				booted,
				{restart: reason => restarts.push(reason)},
				createDigest,
			);
			assert.deepEqual(control.runningHeader(), fixtureCopy(v1).subarray(0, 328));
			assert.equal(control.minSecureVersion(), 0);
			assert.equal(control.chipRevision(), 0, "v0.0 without an eFuse file");
			control.restart();
			assert.deepEqual(restarts, ["restart"]);
			// markValid on a VALID entry writes nothing.
			const before = device.otadata.partition.read(0, 2 * SECTOR_SIZE);
			control.markValid();
			assert.deepEqual(device.otadata.partition.read(0, 2 * SECTOR_SIZE), before);
		});

		it("reads the secure version and the chip from the eFuse file, and refuses a malformed one", () => {
			writeFileSync(efusePath(temp.flashFile), JSON.stringify({secureVersion: 3, chipRevision: "v3.1"}));
			const again = temp.open();
			provision(again, fixtureCopy(v1));
			assert.equal(
				new FlashBootControl(
					again,
					boot(again, createDigest),
					{restart: () => undefined},
					createDigest,
				).minSecureVersion(),
				3,
			);
			assert.equal(
				new FlashBootControl(
					again,
					boot(again, createDigest),
					{restart: () => undefined},
					createDigest,
				).chipRevision(),
				301,
			);
			for (const text of [
				"{",
				"[]",
				'{"secureVersion": -1}',
				'{"secureVersion": 1.5}',
				'{"chip": "esp8266"}',
				'{"chipRevision": 301}',
				'{"chipRevision": "3.1"}',
			]) {
				writeFileSync(efusePath(temp.flashFile), text);
				assert.throws(() => temp.open(), /eFuse file/, text);
			}
		});
	});

	it("boots the image with stale bytes of a longer earlier image behind it", () => {
		provision(device, fixtureCopy(v1));
		install(device, boot(device, createDigest), fixtureCopy("synthetic/app-2.0.0-large.bin"));
		const big = boot(device, createDigest);
		new FlashBootControl(device, big, {restart: () => undefined}, createDigest).markValid();
		install(device, big, fixtureCopy("synthetic/app-1.1.0.bin")); // into ota_0
		const small = boot(device, createDigest);
		assert.equal(small.label, "ota_0");
		assert.equal(small.info.version, "1.1.0");
	});
});
