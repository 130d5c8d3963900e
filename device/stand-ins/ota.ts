/*
 * lin stand-in of Moddable's esp32 `ota` module (mapped as "ota" for the simulator build only).
 * It keeps the esp_ota_* order of calls and its checks that need no bootloader: one open session
 * at a time, writes only while open, nothing past the slot's size, complete() refuses an image
 * without the ESP32 image magic (esp_ota_end's first check) and never changes what boots: the
 * simulator has no second slot. The bytes are counted, not kept.
 */
import Flash from "flash";

const IMAGE_MAGIC = 0xE9;
let openSession: OTA | undefined;

export default class OTA {
	#open = true;
	#written = 0;
	#firstByte = -1;
	readonly #capacity = new Flash("nextota").byteLength;

	constructor(_options?: {byteLength?: number}) {
		if (openSession)
			throw new Error("begin failed");
		openSession = this;
	}

	write(data: ArrayBuffer | ArrayBufferView): void {
		if (!this.#open)
			throw new Error("write failed");
		const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
		if (this.#written + bytes.byteLength > this.#capacity)
			throw new Error("write failed");
		if (this.#written === 0 && bytes.byteLength)
			this.#firstByte = bytes[0];
		this.#written += bytes.byteLength;
	}

	cancel(): void {
		this.#close();
	}

	complete(): void {
		if (!this.#open)
			throw new Error("bad state");
		this.#close();
		if (this.#firstByte !== IMAGE_MAGIC)
			throw new Error("end failed");
		trace(`ota stand-in: ${this.#written} bytes accepted; the simulator keeps running the same firmware\n`);
	}

	#close(): void {
		this.#open = false;
		if (openSession === this)
			openSession = undefined;
	}
}
