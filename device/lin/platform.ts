/*
 * The lin simulator platform (mapped as "device-platform" for lin builds): the node runs on a
 * simulated ESP32 whose flash is $RMX_FLASH_DIR/flash.bin, shared with the host simulator's format.
 * At start it does what the ROM and the second-stage bootloader do on a chip (idf/bootloader.ts:
 * otadata selection, NEW → PENDING_VERIFY, a PENDING_VERIFY left over → ABORTED, image
 * verification), so the running image is the one the bootloader picked; the update slot, otadata
 * switches, confirmation and rollback follow esp_ota_* (idf/update-partition.ts,
 * idf/boot-control.ts). A restart ends mcsim with the reboot exit code (native/otaplat_lin.c) and
 * the supervisor (`rainmaker-ota-xs lin`) starts it again. The partition table is the repository's
 * partitions.csv, built in as a data resource; the eFuses are $RMX_FLASH_DIR/flash.bin.efuse.json.
 */
import FFI from "mc/ffi";
import Resource from "Resource";
import Timer from "timer";
import {boot} from "../../idf/bootloader";
import {FlashBootControl} from "../../idf/boot-control";
import {DEFAULT_EFUSE, parseEfuse} from "../../idf/efuse";
import {FCTRY_PARTITION, readClaimedCredentials} from "../../idf/fctry";
import {FlashDevice} from "../../idf/flash-device";
import {NvsPartition} from "../../idf/nvs";
import {parsePartitionTable} from "../../idf/partitions";
import {FlashUpdatePartition} from "../../idf/update-partition";
import {chipName} from "../../ota/image";
import type {Log} from "../../rainmaker/ports";
import {createCryptDigest} from "../digest";
import type {DevicePlatform} from "../platform";
import {FileStore} from "./file-store";
import {LinFlash, readNodeFile} from "./flash";

const EFUSE_FILE = "flash.bin.efuse.json";
/** The application's persisted params, beside nvs.json (the host simulator's file of the same name). */
const PARAM_STORE_FILE = "params.json";
/** Console polling period of standard input. */
const CONSOLE_POLL_MS = 100;
const CONSOLE_READ_BYTES = 256;

export function openPlatform(log: Log): DevicePlatform {
	const native = new FFI();
	const flash = new LinFlash(native);
	const table = parsePartitionTable(String.fromArrayBuffer(new Resource("partitions.csv").slice(0)), flash.size);
	const efuseText = readNodeFile(EFUSE_FILE, native);
	const efuse = efuseText === undefined ? {...DEFAULT_EFUSE} : parseEfuse(efuseText, EFUSE_FILE);
	const device = new FlashDevice(flash, table, efuse);
	const booted = boot(device, createCryptDigest);
	for (const line of booted.log) log.info(`boot: ${line}`);
	log.info(
		`boot: running ${booted.label} (${booted.info.projectName} ${booted.info.version}), state ${booted.state}`,
	);
	return {
		target: chipName(efuse.chipId),
		store: new FileStore(),
		paramStore: new FileStore(undefined, PARAM_STORE_FILE),
		partition: new FlashUpdatePartition(device, booted.slot, createCryptDigest),
		boot: new FlashBootControl(
			device,
			booted,
			{
				restart: reason => {
					log.info(
						reason === "rollback" ? "Rolling back: rebooting into the previous firmware" : "Restarting",
					);
					native.otaplat_restart();
				},
			},
			createCryptDigest,
		),
		readClaim: () => {
			const fctry = device.partition(FCTRY_PARTITION);
			return fctry
				? readClaimedCredentials(new NvsPartition((offset, length) => fctry.read(offset, length), fctry.size))
				: undefined;
		},
		telnetAllowed: false,
		openLocalConsole: onLine => {
			const buffer = new ArrayBuffer(CONSOLE_READ_BYTES);
			const print = (text: string) => trace(text + "\n");
			let pending = "";
			const timer = Timer.repeat(() => {
				const count = native.otaplat_console_read(buffer, 0, CONSOLE_READ_BYTES);
				if (count < 0) {
					Timer.clear(timer);
					return;
				}
				if (count === 0) return;
				pending += String.fromArrayBuffer(buffer.slice(0, count));
				let end: number;
				while ((end = pending.indexOf("\n")) >= 0) {
					const line = pending.slice(0, end).trim();
					pending = pending.slice(end + 1);
					if (line) onLine(line, print);
				}
			}, CONSOLE_POLL_MS);
		},
	};
}
