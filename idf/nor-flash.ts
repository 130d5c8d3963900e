/*
 * SPI NOR flash as ESP-IDF's esp_partition_* calls see it, platform neutral (no Node, no Moddable
 * imports): a byte array of a fixed size, erased bytes 0xFF, erase by 4 KiB sector, writes that can
 * only clear bits. The host simulator backs it with a file (host/adapters/flash.ts); the lin build
 * with the same file through FFI (native/otaplat_lin.c). `FlashPartition` addresses one partition
 * from its start.
 */
import type {Partition} from "./partitions";

export const SECTOR_SIZE = 4096;

/** What the partition table, otadata, bootloader, esp_ota and NVS code need of a flash chip. */
export interface NorFlash {
	readonly size: number;
	read(offset: number, length: number): Uint8Array;
	/** Erases whole sectors: `offset` and `length` are multiples of 4 KiB. */
	erase(offset: number, length: number): void;
	/** Programs bytes: each byte becomes old AND new. */
	write(offset: number, data: Uint8Array): void;
}

/** One partition of a flash, addressed from the partition's start (esp_partition_read/erase_range/write). */
export class FlashPartition {
	readonly flash: NorFlash;
	readonly partition: Partition;

	constructor(flash: NorFlash, partition: Partition) {
		if (partition.offset + partition.size > flash.size)
			throw new RangeError(
				"Partition " + partition.name + " ends past the flash (0x" + flash.size.toString(16) + " bytes)",
			);
		this.flash = flash;
		this.partition = partition;
	}

	get size(): number {
		return this.partition.size;
	}

	read(offset: number, length: number): Uint8Array {
		this.#check(offset, length, "read");
		return this.flash.read(this.partition.offset + offset, length);
	}

	erase(offset: number, length: number): void {
		this.#check(offset, length, "erase");
		this.flash.erase(this.partition.offset + offset, length);
	}

	write(offset: number, data: Uint8Array): void {
		this.#check(offset, data.length, "write");
		this.flash.write(this.partition.offset + offset, data);
	}

	#check(offset: number, length: number, what: string): void {
		if (offset < 0 || length < 0 || offset + length > this.partition.size)
			throw new RangeError(
				"Partition " +
					this.partition.name +
					": " +
					what +
					" 0x" +
					offset.toString(16) +
					"+0x" +
					length.toString(16) +
					" outside its 0x" +
					this.partition.size.toString(16) +
					" bytes",
			);
	}
}
