/*
 * Stand-in of Moddable's esp32 "ota" (build/devices/esp32/modules/ota/ota.c) over the chip
 * stand-in, following esp_ota_*: the constructor is esp_ota_begin on the next partition (fails
 * with "begin failed" while the running image is pending verification with rollback enabled, or
 * when a handle is already open); write appends (sequential writes) and fails past the partition;
 * complete() is esp_ota_end, which verifies the image in the slot (the project's ImageVerifier:
 * segments, checksum, appended SHA-256, chip id ESP32), then esp_ota_set_boot_partition;
 * cancel() is esp_ota_end without switching. Errors carry ota.c's messages.
 */
import {ImageVerifier} from "../../../host/adapters/image-verifier";
import {createDigest} from "../../../host/adapters/digest";
import {chip} from "./esp32-chip";

export default class OTA {
	#open = false;

	constructor(_options?: {byteLength?: number}) {
		if (chip.otaOpen)
			throw new Error("begin failed");
		if (chip.rollbackEnabled && chip.runningState === 1)
			throw new Error("begin failed");
		chip.otaOpen = true;
		this.#open = true;
		chip.slotWritten = 0;
		chip.slot.fill(0xFF);
	}

	write(data: ArrayBuffer | ArrayBufferView): void {
		if (!this.#open)
			throw new Error("write failed");
		const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
		if (chip.slotWritten + bytes.length > chip.slotBytes)
			throw new Error("write failed");
		chip.slot.set(bytes, chip.slotWritten);
		chip.slotWritten += bytes.length;
	}

	cancel(): void {
		if (!this.#open)
			return;
		this.#open = false;
		chip.otaOpen = false;
	}

	complete(): void {
		if (!this.#open)
			throw new Error("bad state");
		const verifier = new ImageVerifier(createDigest, {chipId: 0, capacity: chip.slotBytes});
		verifier.write(chip.slot.subarray(0, chip.slotWritten));
		const verdict = verifier.end();
		// esp_ota_end releases the handle whatever the outcome; ota.c keeps its pointer, cancel() is then a no-op in effect
		chip.otaOpen = false;
		if (!verdict.valid)
			throw new Error("end failed");
		this.#open = false;
		chip.bootPartition = "next";
	}
}
