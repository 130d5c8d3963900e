/*
 * The ESP32 state behind the "flash" and "mc/ffi" stand-ins, with ESP-IDF's semantics:
 * two app slots (running / next), the running image's esp_ota_img_states_t, the boot choice,
 * an eFuse secure version. Tests set it up with `resetChip` and inspect it afterwards.
 */
import {sharedState} from "./stand-in-state";
export interface Chip {
	/** Bytes of the running image (its first 289 bytes are what the "running" partition reads). */
	running: Uint8Array;
	/** Size of the next update partition ("nextota"). */
	slotBytes: number;
	/** Contents of the next update partition written so far (esp_ota_write). */
	slot: Uint8Array;
	slotWritten: number;
	/** esp_ota_img_states_t of the running partition (0 new, 1 pending verify, 2 valid, 3 invalid, 4 aborted, -1 undefined). */
	runningState: number;
	/** CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE: esp_ota_begin refuses while the running image is pending verify. */
	rollbackEnabled: boolean;
	/**
	 * esp_ota_get_state_partition of the next update partition: an esp_ota_img_states_t, -1 for
	 * ESP_OTA_IMG_UNDEFINED, -2 when no otadata entry selects the slot (ESP_ERR_NOT_FOUND).
	 * esp_ota_set_boot_partition gives it an entry: NEW with rollback enabled, else UNDEFINED.
	 */
	updateSlotState: number;
	/** Whether another valid image exists to roll back to. */
	otherImageValid: boolean;
	/** "running" or "next": the partition the bootloader starts next. */
	bootPartition: "running" | "next";
	/** An esp_ota handle is open. */
	otaOpen: boolean;
	/** Popcount of the eFuse SECURE_VERSION field. */
	secureVersion: number;
	/** esp_chip_info's revision, major × 100 + minor. */
	chipRevision: number;
	/** The label of the partition the running image was booted from (esp_ota_get_running_partition). */
	runningLabel: string;
	/** The running build's identity name (native/app_identity_esp32.c). */
	firmwareName: string;
	/** Calls that would end the program on a device: "restart", "rollback". */
	events: string[];
	/** esp_ota_begin / esp_ota_resume calls ("begin", "resume <offset>"). */
	otaCalls: string[];
	/**
	 * The fctry partition's rmaker_creds entries: a Uint8Array is a blob-typed entry (nvs_set_blob,
	 * nvs_partition_gen "binary"/"hex2bin"/"base64"), a string a string-typed one (nvs_set_str,
	 * nvs_partition_gen "string"). Read with ESP-IDF's semantics by tests/support/moddable/nvs.ts.
	 */
	fctry: Map<string, Uint8Array | string>;
}

/** A chip with a valid running image and an empty, closed update slot of `slotBytes`. */
function freshChip(running: Uint8Array, slotBytes: number): Chip {
	return {
		running,
		slotBytes,
		slot: new Uint8Array(slotBytes),
		slotWritten: 0,
		runningState: 2,
		updateSlotState: -2,
		rollbackEnabled: true,
		otherImageValid: true,
		bootPartition: "running",
		otaOpen: false,
		secureVersion: 0,
		chipRevision: 300,
		firmwareName: "rainmaker-ota-xs",
		runningLabel: "ota_0",
		events: [],
		otaCalls: [],
		fctry: new Map(),
	};
}

export const chip: Chip = sharedState<Chip>("chip", () => freshChip(new Uint8Array(0), 0));

export function resetChip(setup: Partial<Chip> & {running: Uint8Array; slotBytes: number}): Chip {
	Object.assign(chip, freshChip(setup.running, setup.slotBytes), setup);
	return chip;
}
