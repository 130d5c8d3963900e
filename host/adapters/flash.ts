/*
 * A file-backed NOR flash: one file of the flash size, erased bytes 0xFF, erase by 4 KiB sector,
 * and writes that can only clear bits (the file gets old AND new), as SPI NOR flash does. Tests that
 * forget an erase therefore fail as they would on a chip. Every operation goes to the file at once
 * (writeSync, then fdatasync unless `sync` is off), so a process killed between two operations leaves
 * the file as power loss would leave the chip: torn at operation granularity. The partition-level
 * logic (FlashPartition, otadata, bootloader, esp_ota, NVS) is platform neutral, in idf/.
 */
import {closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync} from "node:fs";
import {SECTOR_SIZE, type NorFlash} from "../../idf/nor-flash";

export {FlashPartition, SECTOR_SIZE, type NorFlash} from "../../idf/nor-flash";

export const DEFAULT_FLASH_SIZE = 4 * 1024 * 1024;

export interface FlashOptions {
	/** Size of a new flash file (an existing file keeps its size). Default 4 MiB. */
	size?: number;
	/** fdatasync after every erase and write (default true). */
	sync?: boolean;
}

export class FileFlash implements NorFlash {
	readonly path: string;
	readonly size: number;
	readonly #sync: boolean;
	#fd: number | undefined;

	/** Opens the flash file, creating it fully erased when it does not exist. */
	constructor(path: string, options: FlashOptions = {}) {
		this.path = path;
		this.#sync = options.sync ?? true;
		const create = !existsSync(path);
		this.#fd = openSync(path, create ? "w+" : "r+");
		if (create) {
			const size = options.size ?? DEFAULT_FLASH_SIZE;
			if (size <= 0 || size % SECTOR_SIZE !== 0) {
				closeSync(this.#fd);
				throw new RangeError("Flash size " + size + " is not a positive multiple of " + SECTOR_SIZE);
			}
			ftruncateSync(this.#fd, size);
			const erased = new Uint8Array(64 * SECTOR_SIZE).fill(0xff);
			for (let at = 0; at < size; at += erased.length)
				writeSync(this.#fd, erased, 0, Math.min(erased.length, size - at), at);
			if (this.#sync) fdatasyncSync(this.#fd);
		}
		this.size = fstatSync(this.#fd).size;
		if (this.size === 0 || this.size % SECTOR_SIZE !== 0) {
			this.close();
			throw new RangeError(
				"Flash file " + path + " has size " + this.size + ", not a positive multiple of " + SECTOR_SIZE,
			);
		}
	}

	read(offset: number, length: number): Uint8Array {
		this.#check(offset, length, "read");
		const out = new Uint8Array(length);
		let done = 0;
		while (done < length) {
			const n = readSync(this.#open(), out, done, length - done, offset + done);
			if (n === 0) throw new Error("Flash file " + this.path + " ended early");
			done += n;
		}
		return out;
	}

	/** Erases whole sectors: `offset` and `length` must be multiples of 4 KiB. */
	erase(offset: number, length: number): void {
		this.#check(offset, length, "erase");
		if (offset % SECTOR_SIZE !== 0 || length % SECTOR_SIZE !== 0)
			throw new RangeError(
				"Flash erase 0x" + offset.toString(16) + "+0x" + length.toString(16) + " is not sector aligned",
			);
		const erased = new Uint8Array(Math.min(length, 64 * SECTOR_SIZE)).fill(0xff);
		for (let at = 0; at < length; at += erased.length)
			writeSync(this.#open(), erased, 0, Math.min(erased.length, length - at), offset + at);
		this.#flush();
	}

	/** Programs bytes: each byte becomes old AND new (a write can clear bits, never set them). */
	write(offset: number, data: Uint8Array): void {
		this.#check(offset, data.length, "write");
		if (data.length === 0) return;
		const merged = this.read(offset, data.length);
		for (let i = 0; i < merged.length; i++) merged[i] &= data[i];
		writeSync(this.#open(), merged, 0, merged.length, offset);
		this.#flush();
	}

	close(): void {
		if (this.#fd !== undefined) {
			closeSync(this.#fd);
			this.#fd = undefined;
		}
	}

	#open(): number {
		if (this.#fd === undefined) throw new Error("Flash file " + this.path + " is closed");
		return this.#fd;
	}

	#flush(): void {
		if (this.#sync) fdatasyncSync(this.#open());
	}

	#check(offset: number, length: number, what: string): void {
		if (
			!Number.isInteger(offset) ||
			!Number.isInteger(length) ||
			offset < 0 ||
			length < 0 ||
			offset + length > this.size
		)
			throw new RangeError(
				"Flash " +
					what +
					" 0x" +
					offset.toString(16) +
					"+0x" +
					length.toString(16) +
					" outside the 0x" +
					this.size.toString(16) +
					"-byte flash",
			);
	}
}
