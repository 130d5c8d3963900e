/*
 * lin stand-in of Moddable's `flash` (which has esp/esp32/nrf52 implementations only), for the two
 * partitions the firmware opens: "nextota" (size of an auto-split esp32 OTA slot, nothing stored)
 * and "running" (a synthesized image header of this firmware: ESP32 image header, one segment
 * header, esp_app_desc_t with config.firmwareProject / config.firmwareVersion).
 */
import config from "mc/config";

const SLOT_BYTES = 0x1F0000;
const HEADER_BYTES = 289;

function runningHeader(): Uint8Array {
	const bytes = new Uint8Array(HEADER_BYTES);
	const view = new DataView(bytes.buffer);
	bytes[0] = 0xE9;	// esp_image_header_t.magic
	bytes[1] = 1;		// segment_count
	view.setUint16(12, 0, true);	// chip_id ESP32
	view.setUint32(24 + 4, 256, true);	// segment data_len
	const desc = 32;	// esp_app_desc_t after the 24-byte image header and the 8-byte segment header
	view.setUint32(desc, 0xABCD5432, true);
	view.setUint32(desc + 4, Number(config.firmwareSecureVersion ?? 0), true);
	putString(bytes, desc + 16, String(config.firmwareVersion ?? "0.0.0"), 32);
	putString(bytes, desc + 48, String(config.firmwareProject ?? "rainmaker-ota-xs"), 32);
	return bytes;
}

function putString(bytes: Uint8Array, offset: number, text: string, size: number): void {
	for (let i = 0; i < text.length && i < size - 1; i++)
		bytes[offset + i] = text.charCodeAt(i) & 0x7F;
}

export default class Flash {
	readonly byteLength: number;
	readonly blockSize = 4096;
	readonly #name: string;

	constructor(name: string) {
		if (name !== "nextota" && name !== "running")
			throw new Error(`flash stand-in: no partition "${name}"`);
		this.#name = name;
		this.byteLength = name === "nextota" ? SLOT_BYTES : HEADER_BYTES;
	}

	read(offset: number, byteLength: number): ArrayBuffer {
		if (this.#name !== "running")
			throw new Error("flash stand-in: nextota is write-only here");
		if (offset < 0 || offset + byteLength > HEADER_BYTES)
			throw new RangeError("flash stand-in: read outside the running header");
		return runningHeader().slice(offset, offset + byteLength).buffer as ArrayBuffer;
	}

	erase(_sector: number): void {
		throw new Error("flash stand-in: erase not supported");
	}

	write(_offset: number, _byteLength: number, _buffer: ArrayBuffer): void {
		throw new Error("flash stand-in: write not supported");
	}
}
