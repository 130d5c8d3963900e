/*
 * The simulated second-stage bootloader (platform neutral: the host simulator and the lin build run it), with ESP-IDF's selection and rollback
 * rules (bootloader_utility_get_selected_boot_partition and bootloader_utility_load_boot_image with
 * CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE, no factory app, no anti-rollback):
 * - an entry still PENDING_VERIFY at boot belongs to an app that never confirmed: it becomes ABORTED;
 * - the valid entry with the highest ota_seq selects the slot; a NEW one becomes PENDING_VERIFY;
 * - with no valid entry (erased otadata, or everything invalid/aborted) it starts at ota_0;
 * - the selected slot's image is verified; when it is not bootable the bootloader tries the slots
 *   below it, then those above it, and boots the first valid image (otadata is not consulted);
 * - on a freshly flashed device (both entries erased or with a bad crc) booting an OTA slot writes
 *   an entry seq = slot + 1, VALID into sector 0 (set_actual_ota_seq).
 * Every otadata change is an erase + write of one sector, in place, as the bootloader does.
 */
import type {AppImageInfo} from "../ota/image";
import {parseImageHeader} from "../ota/image";
import type {DigestFactory, ImageState} from "../ota/ports";
import type {FlashDevice} from "./flash-device";
import {OtaImgState, activeOtadata, entryInvalid, entryIntact, imageStateName, newEntry, slotOfSeq} from "./otadata";
import {readSlotHeader, verifySlotImage} from "./slot-image";

export interface BootResult {
	/** Index of the booted OTA slot (0 for ota_0). */
	slot: number;
	/** The slot's partition name ("ota_0"). */
	label: string;
	/** Flash offset of the slot. */
	offset: number;
	size: number;
	info: AppImageInfo;
	/** esp_ota_get_state_partition of the booted slot after the bootloader's own updates ("undefined" when no entry maps to it). */
	state: ImageState;
	/** What the bootloader did, in the words of its ESP-IDF log. */
	log: string[];
}

export class NoBootableImageError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "NoBootableImageError";
	}
}

export function boot(device: FlashDevice, createDigest: DigestFactory): BootResult {
	const log: string[] = [];
	const slotCount = device.slots.length;
	const otadata = device.otadata;
	const entries = otadata.read();

	for (const i of [0, 1] as const) {
		if (entries[i].state === OtaImgState.PENDING_VERIFY) {
			log.push("otadata[" + i + "] is marking as ABORTED");
			entries[i] = {...entries[i], state: OtaImgState.ABORTED};
			otadata.writeSector(i, entries[i]);
		}
	}

	let start: number;
	let initialContents = false;
	if (entryInvalid(entries[0]) && entryInvalid(entries[1])) {
		log.push("No factory image, trying OTA 0");
		start = 0;
		initialContents = !entryIntact(entries[0]) && !entryIntact(entries[1]);
	} else {
		const active = activeOtadata(entries);
		if (active !== -1) {
			start = slotOfSeq(entries[active].seq, slotCount);
			log.push("Active otadata[" + active + "], seq " + entries[active].seq + " -> OTA slot " + start);
			if (entries[active].state === OtaImgState.NEW) {
				log.push("otadata[" + active + "] is selected as new and marked PENDING_VERIFY state");
				otadata.writeSector(active as 0 | 1, {...entries[active], state: OtaImgState.PENDING_VERIFY});
			}
		} else {
			// Only reachable with entries that are not "invalid" yet fail the crc: ESP-IDF then tries every slot from the first.
			log.push("ota data partition invalid and no factory, will try all partitions");
			start = -1;
		}
	}

	const order: number[] = [];
	for (let i = start; i >= 0; i--) order.push(i);
	for (let i = start + 1; i < slotCount; i++) order.push(i);
	for (const index of order) {
		const slot = device.slots[index];
		const verdict = verifySlotImage(slot, createDigest, device.efuse.chipId);
		if (!verdict.valid) {
			log.push("OTA app partition slot " + index + " is not bootable: " + verdict.reason);
			continue;
		}
		let info: AppImageInfo;
		try {
			info = parseImageHeader(readSlotHeader(slot));
		} catch (error) {
			// A valid image without an app descriptor boots on a chip, but this host cannot run it as our firmware.
			log.push("OTA app partition slot " + index + " has no app descriptor: " + (error as Error).message);
			continue;
		}
		if (initialContents) {
			otadata.writeSector(0, newEntry(index + 1, OtaImgState.VALID));
			log.push("Set actual ota_seq=" + (index + 1) + " in otadata[0]");
		}
		const state = otadata.stateOfSlot(index, slotCount);
		log.push("Loaded app from partition at offset 0x" + slot.partition.offset.toString(16));
		return {
			slot: index,
			label: slot.partition.name,
			offset: slot.partition.offset,
			size: slot.partition.size,
			info,
			state: state === undefined ? "undefined" : imageStateName(state),
			log,
		};
	}
	throw new NoBootableImageError("No bootable app partitions in the partition table (" + log.join("; ") + ")");
}

/**
 * Factory flashing: writes `image` into ota_0 and erases otadata, as `idf.py flash` leaves a device
 * (the first boot then starts ota_0 and records it as seq 1, VALID). Refuses an image that does not
 * fit the slot; does not judge its content (a bad image simply will not boot).
 */
export function provision(device: FlashDevice, image: Uint8Array): void {
	const slot = device.slot(0);
	if (image.length > slot.size)
		throw new RangeError(
			"Image of " + image.length + " bytes does not fit " + slot.partition.name + " (" + slot.size + " bytes)",
		);
	slot.erase(0, slot.size);
	slot.write(0, image);
	device.otadata.erase();
}
