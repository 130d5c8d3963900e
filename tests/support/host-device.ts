/*
 * Temporary host devices for tests: a flash file in a fresh temporary folder, laid out from the
 * project's partitions.csv (or a given table), removed again by `dispose`.
 */
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {FileFlash} from "../../host/adapters/flash";
import {HostDevice} from "../../host/adapters/host-device";
import {readPartitionTable} from "../../host/adapters/partitions";
import {readEfuse} from "../../host/adapters/efuse";

export interface TempDevice {
	dir: string;
	flashFile: string;
	partitionsFile?: string;
	/** Opens (or re-opens, like a power cycle) the device. */
	open(flash?: (path: string) => FileFlash): HostDevice;
	dispose(): void;
}

/** `partitionsCsv`: the text of another partition table; default the project's. */
export function tempDevice(partitionsCsv?: string): TempDevice {
	const dir = mkdtempSync(join(tmpdir(), "rmota-flash-"));
	const flashFile = join(dir, "flash.bin");
	let partitionsFile: string | undefined;
	if (partitionsCsv !== undefined) {
		partitionsFile = join(dir, "partitions.csv");
		writeFileSync(partitionsFile, partitionsCsv);
	}
	const opened: HostDevice[] = [];
	return {
		dir,
		flashFile,
		partitionsFile,
		open(flash) {
			let device: HostDevice;
			if (flash)
				device = new HostDevice(flash(flashFile), readPartitionTable(partitionsFile), readEfuse(flashFile));
			else device = HostDevice.open({flashFile, partitionsFile, sync: false});
			opened.push(device);
			return device;
		},
		dispose() {
			for (const device of opened) device.close();
			rmSync(dir, {recursive: true, force: true});
		},
	};
}
