/*
 * Stand-in of Moddable's "flash" (modules/files/flash/esp32/flash.c) for the names the firmware
 * uses: "running" (esp_ota_get_running_partition) and "nextota" (esp_ota_get_next_update_partition),
 * over the chip stand-in. Other names are DATA partition labels on a device; none exist here.
 */
import {chip} from "./esp32-chip";

export default class Flash {
	readonly #name: "running" | "nextota";

	constructor(name: string) {
		if (name !== "running" && name !== "nextota") throw new Error("partition not found");
		this.#name = name;
	}

	get byteLength(): number {
		return this.#name === "running" ? Math.max(chip.running.length, chip.slotBytes) : chip.slotBytes;
	}

	get blockSize(): number {
		return 4096;
	}

	read(offset: number, byteLength: number): ArrayBuffer {
		if (offset < 0 || byteLength < 0 || offset + byteLength > this.byteLength)
			throw new Error("invalid offset/length");
		const out = new Uint8Array(byteLength).fill(0xff);
		const source = this.#name === "running" ? chip.running : chip.slot;
		out.set(source.subarray(offset, Math.min(source.length, offset + byteLength)));
		return out.buffer;
	}
}
