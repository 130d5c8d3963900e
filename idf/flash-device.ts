/*
 * A simulated ESP32's flash as the bootloader and esp_ota_* see it, platform neutral: a NOR flash
 * laid out by a partition table, its otadata, its OTA slots and its eFuses. The host simulator
 * opens it on a file (host/adapters/host-device.ts), the lin build on the same file through FFI.
 */
import {FlashPartition, type NorFlash} from "./nor-flash";
import type {PartitionTable} from "./partitions";
import {Otadata} from "./otadata";

export interface Efuse {
	/** esp_chip_id_t of the chip (CONFIG_IDF_FIRMWARE_CHIP_ID). */
	chipId: number;
	/** The chip's revision, major × 100 + minor (efuse_hal_chip_revision; "v3.1" is 301). */
	chipRevision: number;
	secureVersion: number;
}

export class FlashDevice {
	readonly flash: NorFlash;
	readonly table: PartitionTable;
	readonly otadata: Otadata;
	/** ota_0, ota_1, … */
	readonly slots: readonly FlashPartition[];
	readonly efuse: Efuse;

	constructor(flash: NorFlash, table: PartitionTable, efuse: Efuse) {
		const otadata = table.otadata();
		if (!otadata) throw new Error("The partition table has no otadata partition (data, ota)");
		const slots = table.otaSlots();
		if (slots.length === 0) throw new Error("The partition table has no OTA app partitions (app, ota_0…)");
		if (table.end > flash.size)
			throw new Error(
				"The partition table ends at 0x" +
					table.end.toString(16) +
					", past the 0x" +
					flash.size.toString(16) +
					"-byte flash",
			);
		this.flash = flash;
		this.table = table;
		this.otadata = new Otadata(new FlashPartition(flash, otadata));
		this.slots = slots.map(p => new FlashPartition(flash, p));
		this.efuse = efuse;
	}

	slot(index: number): FlashPartition {
		const slot = this.slots[index];
		if (!slot) throw new RangeError("OTA slot " + index + " does not exist (" + this.slots.length + " slots)");
		return slot;
	}

	/** A partition by name (for example "fctry"), or undefined. */
	partition(name: string): FlashPartition | undefined {
		const partition = this.table.find(name);
		return partition ? new FlashPartition(this.flash, partition) : undefined;
	}
}
