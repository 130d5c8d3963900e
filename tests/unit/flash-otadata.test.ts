/*
 * ESP-IDF's otadata format and selection rules on the host flash.
 */
import assert from "node:assert/strict";
import {crc32} from "node:zlib";
import {SECTOR_SIZE} from "../../host/adapters/flash";
import {
	OTA_SELECT_ENTRY_SIZE,
	OtaImgState,
	activeOtadata,
	decodeEntry,
	encodeEntry,
	entryValid,
	newEntry,
	otaSelectCrc,
	romCrc32Le,
} from "../../idf/otadata";
import {tempDevice, type TempDevice} from "../support/host-device";

describe("otadata (esp_ota_select_entry_t)", () => {
	it("computes the ROM CRC-32 with zlib's conventions: crc argument = previous result", () => {
		const text = new TextEncoder().encode("123456789");
		assert.equal(romCrc32Le(0, text), 0xcbf43926); // the CRC-32 check value
		assert.equal(romCrc32Le(0, text), crc32(text));
		assert.equal(romCrc32Le(romCrc32Le(0, text.subarray(0, 4)), text.subarray(4)), 0xcbf43926);
	});

	it("checks ota_seq with esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4)", () => {
		// Known values (Python: binascii.crc32(struct.pack("<I", seq), 0xFFFFFFFF), as ESP-IDF's otatool computes them).
		assert.equal(otaSelectCrc(1), 0x4743989a);
		assert.equal(otaSelectCrc(2), 0x55f63774);
		for (const seq of [0, 1, 2, 3, 1000, 0xfffffffe]) {
			const bytes = new Uint8Array(4);
			new DataView(bytes.buffer).setUint32(0, seq, true);
			assert.equal(otaSelectCrc(seq), crc32(bytes, 0xffffffff));
		}
	});

	it("lays an entry out in 32 little-endian bytes and reads it back", () => {
		const entry = newEntry(7, OtaImgState.PENDING_VERIFY);
		const bytes = encodeEntry(entry);
		assert.equal(bytes.length, OTA_SELECT_ENTRY_SIZE);
		const view = new DataView(bytes.buffer);
		assert.equal(view.getUint32(0, true), 7);
		assert.ok(bytes.subarray(4, 24).every(b => b === 0xff));
		assert.equal(view.getUint32(24, true), OtaImgState.PENDING_VERIFY);
		assert.equal(view.getUint32(28, true), otaSelectCrc(7));
		assert.deepEqual(decodeEntry(bytes), entry);
	});

	it("treats erased, crc-broken, INVALID and ABORTED entries as not valid; the highest valid seq is active", () => {
		const erased = decodeEntry(new Uint8Array(32).fill(0xff));
		assert.equal(entryValid(erased), false);
		assert.equal(entryValid({...newEntry(3, OtaImgState.VALID), crc: 0}), false);
		assert.equal(entryValid(newEntry(3, OtaImgState.INVALID)), false);
		assert.equal(entryValid(newEntry(3, OtaImgState.ABORTED)), false);
		for (const state of [OtaImgState.NEW, OtaImgState.PENDING_VERIFY, OtaImgState.VALID, OtaImgState.UNDEFINED])
			assert.equal(entryValid(newEntry(3, state)), true);
		assert.equal(activeOtadata([newEntry(4, OtaImgState.VALID), newEntry(5, OtaImgState.NEW)]), 1);
		assert.equal(activeOtadata([newEntry(6, OtaImgState.VALID), newEntry(5, OtaImgState.VALID)]), 0);
		assert.equal(activeOtadata([newEntry(6, OtaImgState.ABORTED), newEntry(5, OtaImgState.VALID)]), 1);
		assert.equal(activeOtadata([erased, erased]), -1);
	});

	describe("on a device", () => {
		let temp: TempDevice;
		beforeEach(() => {
			temp = tempDevice();
		});
		afterEach(() => temp.dispose());

		it("selects slots the way esp_ota_set_boot_partition does: the other sector, the next fitting seq", () => {
			const device = temp.open();
			const otadata = device.otadata;
			assert.equal(otadata.bootSlot(2), undefined);
			otadata.select(1, 2, OtaImgState.NEW); // nothing active: sector 0, seq = slot + 1
			let [a, b] = otadata.read();
			assert.deepEqual([a.seq, a.state, b.seq], [2, OtaImgState.NEW, 0xffffffff]);
			assert.equal(otadata.bootSlot(2), 1);
			otadata.select(0, 2, OtaImgState.NEW);
			[a, b] = otadata.read();
			assert.deepEqual([a.seq, b.seq, b.state], [2, 3, OtaImgState.NEW]);
			assert.equal(otadata.bootSlot(2), 0);
			otadata.select(1, 2, OtaImgState.VALID);
			[a, b] = otadata.read();
			assert.deepEqual([a.seq, a.state, b.seq], [4, OtaImgState.VALID, 3]);
			assert.equal(otadata.bootSlot(2), 1);
			assert.equal(otadata.stateOfSlot(1, 2), OtaImgState.VALID);
			assert.equal(otadata.stateOfSlot(0, 2), OtaImgState.NEW);
		});

		it("keeps the old choice when a switch is cut after the erase of the other sector", () => {
			const device = temp.open();
			const otadata = device.otadata;
			otadata.writeSector(0, newEntry(1, OtaImgState.VALID));
			otadata.select(1, 2, OtaImgState.NEW);
			assert.equal(otadata.bootSlot(2), 1);
			// Power lost between erase and write of sector 1 during the next switch:
			otadata.partition.erase(SECTOR_SIZE, SECTOR_SIZE);
			assert.equal(otadata.bootSlot(2), 0);
			// … or in the middle of the write: the crc no longer matches.
			otadata.partition.write(SECTOR_SIZE, encodeEntry(newEntry(2, OtaImgState.NEW)).subarray(0, 28));
			assert.equal(otadata.bootSlot(2), 0);
		});

		it("rewrites the active entry in place for a state change and reports -1 when none is active", () => {
			const device = temp.open();
			const otadata = device.otadata;
			assert.equal(otadata.setActiveState(OtaImgState.VALID), -1);
			otadata.writeSector(0, newEntry(1, OtaImgState.VALID));
			otadata.writeSector(1, newEntry(2, OtaImgState.PENDING_VERIFY));
			assert.equal(otadata.setActiveState(OtaImgState.VALID), 1);
			const [a, b] = otadata.read();
			assert.deepEqual([a.seq, a.state, b.seq, b.state], [1, OtaImgState.VALID, 2, OtaImgState.VALID]);
		});
	});
});
