/*
 * The lin build's flash: $RMX_FLASH_DIR/flash.bin through FFI (native/otaplat_lin.c), with NOR
 * semantics done in C. The same file and layout as the host simulator's (host/adapters/flash.ts),
 * so the partition table, otadata, bootloader and esp_ota rules (idf/) run on it unchanged.
 */
import FFI from "mc/ffi";
import type {NorFlash} from "../../idf/nor-flash";

export class LinFlashError extends Error {
	override name = "LinFlashError";
}

export class LinFlash implements NorFlash {
	readonly size: number;
	readonly #native: FFI;

	constructor(native: FFI = new FFI()) {
		this.#native = native;
		const size = native.otaplat_flash_open();
		if (size === -1)
			throw new LinFlashError(
				"RMX_FLASH_DIR is not set: run the lin build with `rainmaker-ota-xs lin` (it provisions the flash file and restarts mcsim on a reboot)",
			);
		if (size < 0) throw new LinFlashError(`cannot open $RMX_FLASH_DIR/flash.bin (errno ${-size})`);
		this.size = size;
	}

	read(offset: number, length: number): Uint8Array {
		const bytes = new Uint8Array(length);
		this.#check(this.#native.otaplat_flash_read(offset, bytes.buffer, 0, length), "read", offset, length);
		return bytes;
	}

	erase(offset: number, length: number): void {
		this.#check(this.#native.otaplat_flash_erase(offset, length), "erase", offset, length);
	}

	write(offset: number, data: Uint8Array): void {
		this.#check(
			this.#native.otaplat_flash_write(offset, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength),
			"write",
			offset,
			data.byteLength,
		);
	}

	#check(result: number, what: string, offset: number, length: number): void {
		if (result !== 0)
			throw new LinFlashError(
				`flash ${what} 0x${offset.toString(16)}+0x${length.toString(16)} failed (errno ${-result})`,
			);
	}
}

/** A small file next to the flash file, as text; undefined when it does not exist. */
export function readNodeFile(name: string, native: FFI = new FFI()): string | undefined {
	const size = native.otaplat_file_size(name);
	if (size === -2)
		// ENOENT
		return undefined;
	if (size < 0) throw new LinFlashError(`cannot read $RMX_FLASH_DIR/${name} (errno ${-size})`);
	const bytes = new ArrayBuffer(size);
	const read = native.otaplat_file_read(name, bytes, 0, size);
	if (read !== size)
		throw new LinFlashError(`cannot read $RMX_FLASH_DIR/${name} (${read < 0 ? `errno ${-read}` : "short read"})`);
	return String.fromArrayBuffer(bytes);
}

/** Replaces a small file next to the flash file atomically. */
export function writeNodeFile(name: string, text: string, native: FFI = new FFI()): void {
	const bytes = ArrayBuffer.fromString(text);
	const result = native.otaplat_file_write(name, bytes, 0, bytes.byteLength);
	if (result !== 0) throw new LinFlashError(`cannot write $RMX_FLASH_DIR/${name} (errno ${-result})`);
}
