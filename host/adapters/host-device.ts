/*
 * A simulated ESP32 on the host: the flash file laid out from partitions.csv, its otadata, its OTA
 * slots and its eFuses (the layout itself is platform neutral: idf/flash-device.ts). The bootloader,
 * the update partition and the boot control work on it.
 */
import {FlashDevice} from "../../idf/flash-device";
import {FileFlash, type FlashOptions} from "./flash";
import {DEFAULT_PARTITIONS_FILE, PartitionTable, readPartitionTable} from "./partitions";
import {readEfuse, type Efuse} from "./efuse";

export interface HostDeviceOptions extends FlashOptions {
	/** The flash file; created fully erased when missing. */
	flashFile: string;
	/** partitions.csv (default: the project's). */
	partitionsFile?: string | URL;
}

export class HostDevice extends FlashDevice {
	declare readonly flash: FileFlash;

	constructor(flash: FileFlash, table: PartitionTable, efuse: Efuse) {
		try {
			super(flash, table, efuse);
		} catch (error) {
			throw error instanceof Error && /past the .*flash$/.test(error.message)
				? new Error(error.message + " " + flash.path)
				: error;
		}
	}

	static open(options: HostDeviceOptions): HostDevice {
		const table = readPartitionTable(options.partitionsFile ?? DEFAULT_PARTITIONS_FILE);
		const efuse = readEfuse(options.flashFile);
		const flash = new FileFlash(options.flashFile, options);
		try {
			return new HostDevice(flash, table, efuse);
		} catch (error) {
			flash.close();
			throw error;
		}
	}

	close(): void {
		this.flash.close();
	}
}
