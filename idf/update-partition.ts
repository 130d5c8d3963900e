/*
 * The UpdatePartition port on a simulated flash (platform neutral: the lin build's `ota` stand-in
 * runs it too, with the crypt digests; the host passes node:crypto's), with the semantics of ESP-IDF's esp_ota_* calls:
 * - begin: refused while the running app is PENDING_VERIFY (ESP_ERR_OTA_ROLLBACK_INVALID_STATE);
 *   the target is esp_ota_get_next_update_partition (the slot after the running one, wrapping);
 *   writes erase lazily, sector by sector, as they advance (OTA_WITH_SEQUENTIAL_WRITES);
 *   begin(resumeAt) keeps the bytes already in the slot (esp_ota_resume) when resumeAt is
 *   sector-aligned, inside the slot and not beyond what this process last saw written there;
 * - write: the first byte must be the image magic 0xE9 (esp_ota_write);
 * - end: esp_image_verify of the slot (checksum, appended SHA-256, fits the slot, right chip), then
 *   esp_ota_set_boot_partition: otadata selects the slot with state NEW. A failed verification
 *   throws ImageInvalidError (the reason) and leaves otadata as it was;
 * - abort: otadata untouched.
 */
import type {DigestFactory, UpdatePartition} from "../ota/ports";
import {IMAGE_MAGIC} from "../ota/image";
import {ImageInvalidError} from "../ota/outcome";
import type {FlashDevice} from "./flash-device";
import {SECTOR_SIZE, type FlashPartition} from "./nor-flash";
import {OtaImgState} from "./otadata";
import {verifySlotImage} from "./slot-image";

export class FlashUpdatePartition implements UpdatePartition {
	readonly #device: FlashDevice;
	readonly #runningSlot: number;
	readonly #createDigest: DigestFactory;
	readonly #target: number;
	#open = false;
	#written = 0;
	/** Bytes written into the target by this process's last attempt (the resume bound); undefined when unknown. */
	#recorded: number | undefined;

	/** `runningSlot`: the OTA slot the bootloader started (BootResult.slot). */
	constructor(device: FlashDevice, runningSlot: number, createDigest: DigestFactory) {
		this.#device = device;
		this.#runningSlot = runningSlot;
		this.#createDigest = createDigest;
		this.#target = (runningSlot + 1) % device.slots.length;
	}

	/** The slot updates go to (esp_ota_get_next_update_partition). */
	get targetSlot(): number {
		return this.#target;
	}

	get capacity(): number {
		return this.#slot().size;
	}

	get written(): number {
		return this.#written;
	}

	begin(resumeAt: number): number {
		this.#open = false;
		if (this.#target === this.#runningSlot)
			throw new Error("OTA begin failed: ESP_ERR_OTA_PARTITION_CONFLICT (the only OTA slot is the running one)");
		const otadata = this.#device.otadata;
		if (otadata.stateOfSlot(this.#runningSlot, this.#device.slots.length) === OtaImgState.PENDING_VERIFY)
			throw new Error(
				"OTA begin failed: ESP_ERR_OTA_ROLLBACK_INVALID_STATE (running app has not confirmed state, ESP_OTA_IMG_PENDING_VERIFY)",
			);
		const keep =
			Number.isInteger(resumeAt) &&
			resumeAt > 0 &&
			resumeAt % SECTOR_SIZE === 0 &&
			resumeAt < this.capacity &&
			(this.#recorded === undefined || resumeAt <= this.#recorded);
		this.#written = keep ? resumeAt : 0;
		this.#recorded = this.#written;
		this.#open = true;
		return this.#written;
	}

	write(chunk: Uint8Array): void {
		if (!this.#open) throw new Error("OTA write without begin");
		if (chunk.length === 0) return;
		const slot = this.#slot();
		const at = this.#written;
		if (at + chunk.length > slot.size)
			throw new Error(
				"OTA write past the end of " +
					slot.partition.name +
					": " +
					(at + chunk.length) +
					" > " +
					slot.size +
					" bytes",
			);
		if (at === 0 && chunk[0] !== IMAGE_MAGIC)
			throw new Error(
				"OTA image has invalid magic byte (expected 0xE9, saw 0x" +
					chunk[0].toString(16).padStart(2, "0") +
					")",
			);
		// esp_ota_write's erase-as-you-go: a write starting on a sector boundary erases the sectors it
		// touches; one starting inside a sector erases the following ones it reaches.
		// The last sector is the one holding the chunk's last byte (ESP-IDF: (wrote_size + size - 1) / sector).
		const first = Math.floor(at / SECTOR_SIZE);
		const last = Math.floor((at + chunk.length - 1) / SECTOR_SIZE);
		let eraseFrom = -1;
		let eraseSectors = 0;
		if (at % SECTOR_SIZE === 0) {
			eraseFrom = at;
			eraseSectors = last - first + 1;
		} else if (first !== last) {
			eraseFrom = (first + 1) * SECTOR_SIZE;
			eraseSectors = last - first;
		}
		if (eraseFrom >= 0 && eraseFrom < slot.size)
			slot.erase(eraseFrom, Math.min(eraseSectors * SECTOR_SIZE, slot.size - eraseFrom));
		slot.write(at, chunk);
		this.#written = at + chunk.length;
		this.#recorded = this.#written;
	}

	end(): void {
		if (!this.#open) throw new Error("OTA end without begin");
		this.#open = false;
		if (this.#written === 0) throw new Error("OTA end failed: nothing was written");
		const verdict = verifySlotImage(this.#slot(), this.#createDigest, this.#device.efuse.chipId);
		if (!verdict.valid) throw new ImageInvalidError(verdict.reason ?? "invalid image");
		this.#device.otadata.select(this.#target, this.#device.slots.length, OtaImgState.NEW);
		this.#recorded = undefined;
	}

	/** esp_partition_read of the slot's bytes written so far (the MD5 of a resumed image). */
	read(offset: number, into: Uint8Array): void {
		if (offset < 0 || offset + into.length > this.#written)
			throw new RangeError(
				"OTA read of " +
					into.length +
					" bytes at " +
					offset +
					" outside the " +
					this.#written +
					" bytes written",
			);
		into.set(this.#slot().read(offset, into.length));
	}

	abort(): void {
		this.#open = false;
	}

	#slot(): FlashPartition {
		return this.#device.slot(this.#target);
	}
}
