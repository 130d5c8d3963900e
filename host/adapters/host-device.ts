/*
 * A simulated ESP32 on the host: the flash file laid out from partitions.csv, its otadata, its OTA
 * slots and its eFuses. The bootloader, the update partition and the boot control work on it.
 */
import {FileFlash, FlashPartition, type FlashOptions} from "./flash";
import {DEFAULT_PARTITIONS_FILE, PartitionTable, readPartitionTable} from "./partitions";
import {Otadata} from "./otadata";
import {readEfuse, type Efuse} from "./efuse";

export interface HostDeviceOptions extends FlashOptions {
	/** The flash file; created fully erased when missing. */
	flashFile: string;
	/** partitions.csv (default: the project's). */
	partitionsFile?: string | URL;
}

export class HostDevice {
	readonly flash: FileFlash;
	readonly table: PartitionTable;
	readonly otadata: Otadata;
	/** ota_0, ota_1, … */
	readonly slots: readonly FlashPartition[];
	readonly efuse: Efuse;

	constructor(flash: FileFlash, table: PartitionTable, efuse: Efuse) {
		const otadata = table.otadata();
		if (!otadata)
			throw new Error("The partition table has no otadata partition (data, ota)");
		const slots = table.otaSlots();
		if (slots.length === 0)
			throw new Error("The partition table has no OTA app partitions (app, ota_0…)");
		if (table.end > flash.size)
			throw new Error("The partition table ends at 0x" + table.end.toString(16) + ", past the 0x" + flash.size.toString(16) + "-byte flash " + flash.path);
		this.flash = flash;
		this.table = table;
		this.otadata = new Otadata(new FlashPartition(flash, otadata));
		this.slots = slots.map((p) => new FlashPartition(flash, p));
		this.efuse = efuse;
	}

	static open(options: HostDeviceOptions): HostDevice {
		const table = readPartitionTable(options.partitionsFile ?? DEFAULT_PARTITIONS_FILE);
		const efuse = readEfuse(options.flashFile);
		const flash = new FileFlash(options.flashFile, options);
		try {
			return new HostDevice(flash, table, efuse);
		}
		catch (error) {
			flash.close();
			throw error;
		}
	}

	slot(index: number): FlashPartition {
		const slot = this.slots[index];
		if (!slot)
			throw new RangeError("OTA slot " + index + " does not exist (" + this.slots.length + " slots)");
		return slot;
	}

	close(): void {
		this.flash.close();
	}
}
