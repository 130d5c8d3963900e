/*
 * ESP-IDF's otadata partition: two 4 KiB sectors, each starting with an esp_ota_select_entry_t
 * {uint32 ota_seq; uint8 seq_label[20]; uint32 ota_state; uint32 crc} (little-endian, 32 bytes).
 * An entry is valid when ota_seq != 0xFFFFFFFF, its crc matches and its state is neither INVALID
 * nor ABORTED; of two valid entries the higher ota_seq wins, and it selects OTA slot
 * (ota_seq − 1) % number_of_ota_slots. The rules are those of ESP-IDF's bootloader_common.c and
 * esp_ota_ops.c (esp_rewrite_ota_data, rewrite_ota_seq, esp_ota_get_state_partition).
 */
import type {ImageState} from "../ota/ports";
import {SECTOR_SIZE, type FlashPartition} from "./nor-flash";

export const OTA_SELECT_ENTRY_SIZE = 32;
export const UINT32_MAX = 0xffffffff;

/** esp_ota_img_states_t */
export const OtaImgState = Object.freeze({
	NEW: 0x0,
	PENDING_VERIFY: 0x1,
	VALID: 0x2,
	INVALID: 0x3,
	ABORTED: 0x4,
	UNDEFINED: 0xffffffff,
});

export interface OtaSelectEntry {
	seq: number;
	/** seq_label[20], kept as read (unused by ESP-IDF's selection). */
	label: Uint8Array;
	state: number;
	crc: number;
}

const crcTable = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

/**
 * esp_rom_crc32_le(crc, buf, len): the reflected CRC-32 (polynomial 0xEDB88320) whose `crc`
 * argument is the previous result, i.e. the ROM inverts it on entry and the result on exit, like
 * zlib's crc32(crc, buf, len). So esp_rom_crc32_le(0, buf) is the usual CRC-32 of buf, and
 * ESP-IDF's UINT32_MAX start means a register of 0 with the final inversion.
 */
export function romCrc32Le(crc: number, bytes: Uint8Array): number {
	let c = ~crc >>> 0;
	for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
	return ~c >>> 0;
}

/** bootloader_common_ota_select_crc: esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4). */
export function otaSelectCrc(seq: number): number {
	const bytes = new Uint8Array(4);
	new DataView(bytes.buffer).setUint32(0, seq >>> 0, true);
	return romCrc32Le(UINT32_MAX, bytes);
}

export function newEntry(seq: number, state: number): OtaSelectEntry {
	return {seq: seq >>> 0, label: new Uint8Array(20).fill(0xff), state: state >>> 0, crc: otaSelectCrc(seq)};
}

export function encodeEntry(entry: OtaSelectEntry): Uint8Array {
	const bytes = new Uint8Array(OTA_SELECT_ENTRY_SIZE);
	const view = new DataView(bytes.buffer);
	view.setUint32(0, entry.seq >>> 0, true);
	bytes.set(entry.label.subarray(0, 20), 4);
	view.setUint32(24, entry.state >>> 0, true);
	view.setUint32(28, entry.crc >>> 0, true);
	return bytes;
}

export function decodeEntry(bytes: Uint8Array): OtaSelectEntry {
	const view = new DataView(bytes.buffer, bytes.byteOffset, OTA_SELECT_ENTRY_SIZE);
	return {
		seq: view.getUint32(0, true),
		label: bytes.slice(4, 24),
		state: view.getUint32(24, true),
		crc: view.getUint32(28, true),
	};
}

/** bootloader_common_ota_select_invalid */
export function entryInvalid(entry: OtaSelectEntry): boolean {
	return entry.seq === UINT32_MAX || entry.state === OtaImgState.INVALID || entry.state === OtaImgState.ABORTED;
}

/** The crc matches and the entry is not erased (whatever its state). */
export function entryIntact(entry: OtaSelectEntry): boolean {
	return entry.seq !== UINT32_MAX && entry.crc === otaSelectCrc(entry.seq);
}

/** bootloader_common_ota_select_valid */
export function entryValid(entry: OtaSelectEntry): boolean {
	return !entryInvalid(entry) && entryIntact(entry);
}

/** bootloader_common_select_otadata: index of the valid entry with the highest (or lowest) seq, or -1. */
export function selectOtadata(entries: readonly OtaSelectEntry[], valid: readonly boolean[], max: boolean): number {
	if (valid[0] && valid[1]) {
		const pick = max ? Math.max(entries[0].seq, entries[1].seq) : Math.min(entries[0].seq, entries[1].seq);
		return pick === entries[0].seq ? 0 : 1;
	}
	if (valid[0]) return 0;
	if (valid[1]) return 1;
	return -1;
}

/** bootloader_common_get_active_otadata */
export function activeOtadata(entries: readonly OtaSelectEntry[]): number {
	return selectOtadata(entries, [entryValid(entries[0]), entryValid(entries[1])], true);
}

/** The OTA slot an entry selects. */
export function slotOfSeq(seq: number, slotCount: number): number {
	return ((seq - 1) >>> 0) % slotCount;
}

export function imageStateName(state: number): ImageState {
	switch (state) {
		case OtaImgState.NEW:
			return "new";
		case OtaImgState.PENDING_VERIFY:
			return "pending-verify";
		case OtaImgState.VALID:
			return "valid";
		case OtaImgState.INVALID:
			return "invalid";
		case OtaImgState.ABORTED:
			return "aborted";
		default:
			return "undefined";
	}
}

/** The otadata partition of a flash. */
export class Otadata {
	readonly partition: FlashPartition;

	constructor(partition: FlashPartition) {
		if (partition.size < 2 * SECTOR_SIZE)
			throw new RangeError("otadata partition " + partition.partition.name + " needs two 4 KiB sectors");
		this.partition = partition;
	}

	/** Both entries, sector 0 first. */
	read(): [OtaSelectEntry, OtaSelectEntry] {
		return [
			decodeEntry(this.partition.read(0, OTA_SELECT_ENTRY_SIZE)),
			decodeEntry(this.partition.read(SECTOR_SIZE, OTA_SELECT_ENTRY_SIZE)),
		];
	}

	/** Erases sector `index` and writes the entry into it (rewrite_ota_seq / the bootloader's write_otadata). */
	writeSector(index: 0 | 1, entry: OtaSelectEntry): void {
		this.partition.erase(index * SECTOR_SIZE, SECTOR_SIZE);
		this.partition.write(index * SECTOR_SIZE, encodeEntry(entry));
	}

	/** Erases both sectors: the state of a freshly flashed device (boots the factory app or ota_0). */
	erase(): void {
		this.partition.erase(0, 2 * SECTOR_SIZE);
	}

	/**
	 * esp_rewrite_ota_data (esp_ota_set_boot_partition for an OTA slot): writes a selection of `slot`
	 * with `state` into the sector that does NOT hold the active entry, with the smallest
	 * seq ≥ the active one that maps to the slot. The active entry stays intact until the new one is
	 * complete, so a power cut during the switch leaves the old choice.
	 */
	select(slot: number, slotCount: number, state: number): void {
		if (slot < 0 || slot >= slotCount)
			throw new RangeError("OTA slot " + slot + " does not exist (" + slotCount + " slots)");
		const entries = this.read();
		const active = activeOtadata(entries);
		const base = (slot + 1) % slotCount;
		if (active === -1) {
			this.writeSector(0, {...entries[0], seq: slot + 1, state, crc: otaSelectCrc(slot + 1)});
			return;
		}
		const seq = entries[active].seq;
		let i = 0;
		while (seq > base + i * slotCount) i++;
		const next = active === 0 ? 1 : 0;
		const newSeq = base + i * slotCount;
		this.writeSector(next, {...entries[next], seq: newSeq, state, crc: otaSelectCrc(newSeq)});
	}

	/** The slot the bootloader would start with (esp_ota_get_boot_partition), or undefined when otadata selects none. */
	bootSlot(slotCount: number): number | undefined {
		const entries = this.read();
		if (slotCount === 0 || (entryInvalid(entries[0]) && entryInvalid(entries[1]))) return undefined;
		const active = activeOtadata(entries);
		return active === -1 ? undefined : slotOfSeq(entries[active].seq, slotCount);
	}

	/** esp_ota_get_state_partition: the state of the first intact entry that maps to the slot, else undefined. */
	stateOfSlot(slot: number, slotCount: number): number | undefined {
		const entries = this.read();
		for (const entry of entries) {
			if (slotOfSeq(entry.seq, slotCount) === slot && entry.crc === otaSelectCrc(entry.seq)) return entry.state;
		}
		return undefined;
	}

	/** Rewrites the active entry in place with a new state (esp_ota_current_ota_is_workable). Returns its index, or -1 when none is active. */
	setActiveState(state: number): number {
		const entries = this.read();
		const active = activeOtadata(entries);
		if (active === -1) return -1;
		this.writeSector(active as 0 | 1, {...entries[active], state});
		return active;
	}
}
