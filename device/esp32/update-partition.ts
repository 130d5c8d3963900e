/*
 * UpdatePartition port on the ESP32, through XS FFI (native/otaplat_esp32.c): begin = esp_ota_begin
 * on the next update partition, or esp_ota_resume when the OTA core asks to keep the bytes of an
 * interrupted attempt (sequential writes, erased as written); write = esp_ota_write; end =
 * esp_ota_end (checks the image: segments, checksum, appended SHA-256; ESP_ERR_OTA_VALIDATE_FAILED is
 * an ImageInvalidError, as ota/ports.ts says) + esp_ota_set_boot_partition;
 * abort = esp_ota_abort; read = esp_partition_read of the slot being written (so a job with
 * file_md5 can be resumed: the core feeds the kept bytes to the MD5 first). Moddable's `ota`
 * module is not used: it keeps the esp_ota handle private and has no resume.
 *
 * Resume: esp_ota_resume is in the ESP-IDF v6.0 that Moddable 8.2.3 builds with. The core passes a
 * sector-aligned offset it stored while writing; like esp_ota_resume, the port trusts it (esp_ota_end
 * verifies the whole image, so a wrong offset ends in a rejected image, never in a bad boot).
 *
 * esp_ota_begin fails while the running image is still pending verification (rollback builds),
 * which is the "no update possible now" case of the port: begin throws.
 */
import FFI from "mc/ffi";
import {ImageInvalidError} from "../../ota/outcome";
import type {UpdatePartition} from "../../ota/ports";

const SECTOR_SIZE = 4096;
const ESP_ERR_OTA_VALIDATE_FAILED = 0x1503;

/** esp_err_t names of the errors the esp_ota_* calls return (esp_err.h, esp_ota_ops.h). */
const ERRORS: {readonly [code: number]: string} = Object.freeze<{readonly [code: number]: string}>({
	0x101: "ESP_ERR_NO_MEM",
	0x102: "ESP_ERR_INVALID_ARG",
	0x103: "ESP_ERR_INVALID_STATE",
	0x104: "ESP_ERR_INVALID_SIZE",
	0x105: "ESP_ERR_NOT_FOUND",
	0x1501: "ESP_ERR_OTA_PARTITION_CONFLICT",
	0x1502: "ESP_ERR_OTA_SELECT_INFO_INVALID",
	0x1503: "ESP_ERR_OTA_VALIDATE_FAILED",
	0x1504: "ESP_ERR_OTA_SMALL_SEC_VER",
	0x1505: "ESP_ERR_OTA_ROLLBACK_FAILED",
	0x1506: "ESP_ERR_OTA_ROLLBACK_INVALID_STATE",
	0x1507: "ESP_ERR_OTA_ALREADY_IN_PROGRESS",
});

export function espErrorName(code: number): string {
	return ERRORS[code] ?? `esp_err_t 0x${code.toString(16)}`;
}

export class OtaUpdatePartition implements UpdatePartition {
	readonly capacity: number;
	readonly #native = new FFI();
	#open = false;
	#written = 0;

	constructor() {
		const capacity = this.#native.otaplat_ota_capacity();
		if (capacity < 0) throw new Error(`no OTA update partition (${espErrorName(-capacity)})`);
		this.capacity = capacity;
	}

	get written(): number {
		return this.#written;
	}

	begin(resumeAt: number): number {
		if (!(resumeAt >= 0)) throw new RangeError(`bad resume offset ${resumeAt}`);
		this.abort();
		const keep =
			Number.isInteger(resumeAt) && resumeAt % SECTOR_SIZE === 0 && resumeAt < this.capacity ? resumeAt : 0;
		const error = this.#native.otaplat_ota_begin(keep);
		if (error !== 0)
			throw new Error(
				`cannot open the update partition (${keep ? "esp_ota_resume" : "esp_ota_begin"}: ${espErrorName(error)})`,
			);
		this.#open = true;
		this.#written = keep;
		return keep;
	}

	write(chunk: Uint8Array): void {
		if (!this.#open) throw new Error("update partition not open");
		if (this.#written + chunk.byteLength > this.capacity)
			throw new RangeError(`image larger than the update partition (${this.capacity} bytes)`);
		const error = this.#native.otaplat_ota_write(chunk.buffer as ArrayBuffer, chunk.byteOffset, chunk.byteLength);
		if (error !== 0)
			throw new Error(`flash write failed at offset ${this.#written} (esp_ota_write: ${espErrorName(error)})`);
		this.#written += chunk.byteLength;
	}

	/** esp_partition_read of the slot's bytes written so far: the MD5 of a resumed image covers all of it. */
	read(offset: number, into: Uint8Array): void {
		if (!this.#open) throw new Error("update partition not open");
		if (!(offset >= 0) || offset + into.byteLength > this.#written)
			throw new RangeError(
				`OTA read of ${into.byteLength} bytes at ${offset} outside the ${this.#written} bytes written`,
			);
		const error = this.#native.otaplat_ota_read(
			offset,
			into.buffer as ArrayBuffer,
			into.byteOffset,
			into.byteLength,
		);
		if (error !== 0)
			throw new Error(`flash read failed at offset ${offset} (esp_partition_read: ${espErrorName(error)})`);
	}

	end(): void {
		if (!this.#open) throw new Error("update partition not open");
		this.#open = false;
		const error = this.#native.otaplat_ota_end();
		// As the port says: an image that does not verify is the image's fault (ImageInvalidError), any other error the finish's.
		if (error === ESP_ERR_OTA_VALIDATE_FAILED)
			throw new ImageInvalidError(`esp_ota_end refused the image (${espErrorName(error)})`);
		if (error !== 0) throw new Error(`image rejected by esp_ota_end / set_boot_partition (${espErrorName(error)})`);
	}

	abort(): void {
		if (!this.#open) return;
		this.#open = false;
		this.#native.otaplat_ota_abort();
	}
}
