/*
 * UpdatePartition port on Moddable's esp32 `ota` module: new OTA() = esp_ota_begin on the next
 * update partition (sequential writes, erased as written), write = esp_ota_write, complete() =
 * esp_ota_end (checks the image: segments, checksum, appended SHA-256) + esp_ota_set_boot_partition,
 * cancel() = esp_ota_end without switching. Capacity = size of the "nextota" partition (`flash`).
 *
 * Resume: not implemented; begin(resumeAt) always returns 0 (the download starts over). The `ota`
 * module has no esp_ota_resume, and wrapping it through the FFI would need the handle that
 * the module keeps private; a restart from 0 costs one download of at most ~2 MB.
 *
 * esp_ota_begin fails while the running image is still pending verification (rollback builds),
 * which is the "no update possible now" case of the port: begin throws.
 */
import OTA from "ota";
import Flash from "flash";
import type {UpdatePartition} from "../ota/ports";

export class OtaUpdatePartition implements UpdatePartition {
	readonly capacity: number;
	#ota: OTA | undefined;
	#written = 0;

	/** `partitionName` is the flash module's name of the inactive slot. */
	constructor(partitionName = "nextota") {
		this.capacity = new Flash(partitionName).byteLength;
	}

	get written(): number {
		return this.#written;
	}

	begin(resumeAt: number): number {
		if (!(resumeAt >= 0))
			throw new RangeError(`bad resume offset ${resumeAt}`);
		this.abort();
		try {
			this.#ota = new OTA();
		}
		catch (error) {
			throw new Error(`cannot open the update partition (esp_ota_begin): ${describe(error)}`);
		}
		this.#written = 0;
		return 0;
	}

	write(chunk: Uint8Array): void {
		const ota = this.#ota;
		if (!ota)
			throw new Error("update partition not open");
		if (this.#written + chunk.byteLength > this.capacity)
			throw new RangeError(`image larger than the update partition (${this.capacity} bytes)`);
		try {
			ota.write(chunk);
		}
		catch (error) {
			throw new Error(`flash write failed at offset ${this.#written}: ${describe(error)}`);
		}
		this.#written += chunk.byteLength;
	}

	end(): void {
		const ota = this.#ota;
		if (!ota)
			throw new Error("update partition not open");
		this.#ota = undefined;
		try {
			ota.complete();
		}
		catch (error) {
			try {
				ota.cancel();
			}
			catch {
				// esp_ota_end already released the handle
			}
			throw new Error(`image rejected by esp_ota_end / set_boot_partition: ${describe(error)}`);
		}
	}

	abort(): void {
		const ota = this.#ota;
		this.#ota = undefined;
		if (ota)
			ota.cancel();
	}
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
