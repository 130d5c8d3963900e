/*
 * Stand-in of the FFI module mcconfig generates from manifest.json "ffi" (native/otaplat_*.c).
 * esp32 functions work on the chip stand-in (esp32-chip.ts) with esp_ota_* semantics: begin is
 * refused while the running image is pending verification (rollback builds), esp_ota_resume keeps
 * the bytes below its offset, esp_ota_end verifies the slot's image (the project's ImageVerifier:
 * segments, checksum, appended SHA-256, chip ESP32) and then sets the boot partition (the slot's
 * otadata state becomes NEW, or UNDEFINED without rollback); esp_partition_read reads the open
 * slot back. Calls that never return on a device (restart, a successful rollback) are recorded in
 * chip.events and return.
 * lin functions work on the files of $RMX_FLASH_DIR, with native/otaplat_lin.c's semantics (NOR
 * writes through the host's FileFlash; restart is recorded in chip.events).
 */
import {existsSync, readFileSync, renameSync, statSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {ImageVerifier} from "../../../../idf/image-verifier";
import {createDigest} from "../../../../host/adapters/digest";
import {FileFlash} from "../../../../host/adapters/flash";
import {chip} from "../esp32-chip";
import {
	ESP_ERR_NVS_INVALID_LENGTH,
	ESP_ERR_NVS_NOT_FOUND,
	ESP_ERR_NVS_TYPE_MISMATCH,
	nvsGetBlob,
	nvsGetStr,
} from "../nvs";
import {isU16Entry, preferenceStorage} from "../preference";
import {sharedState} from "../stand-in-state";

const ESP_OK = 0;
const ESP_ERR_INVALID_STATE = 0x103;
const ESP_ERR_INVALID_SIZE = 0x104;
const ESP_ERR_OTA_VALIDATE_FAILED = 0x1503;
const ESP_ERR_OTA_ROLLBACK_FAILED = 0x1505;
const ESP_ERR_OTA_ROLLBACK_INVALID_STATE = 0x1506;

/** OTAPLAT_TRY_STRING of native/otaplat_esp32.c. */
function tryString(err: number): boolean {
	return err === ESP_ERR_NVS_NOT_FOUND || err === ESP_ERR_NVS_TYPE_MISMATCH;
}

/** The lin flash file of the current RMX_FLASH_DIR (one per directory, shared by all FFI instances). */
const linFlashes = sharedState("lin-flashes", () => new Map<string, FileFlash>());

/** Console input queued for otaplat_console_read (tests push lines; `onRead` sees each call's result). */
export const consoleInput = sharedState(
	"lin-console",
	(): {text: string; ended: boolean; onRead?: (result: number) => void} => ({text: "", ended: false}),
);

function flashDir(): string | undefined {
	return process.env.RMX_FLASH_DIR || undefined;
}

function bytesOf(buffer: ArrayBuffer, offset: number, length: number): Uint8Array {
	return new Uint8Array(buffer, offset, length);
}

export default class FFI {
	// esp32: boot control
	otaplat_running_state(): number {
		return chip.runningState;
	}

	otaplat_mark_valid(): number {
		if (chip.runningState === 1) chip.runningState = 2;
		return ESP_OK;
	}

	otaplat_rollback(): number {
		if (!chip.otherImageValid) return ESP_ERR_OTA_ROLLBACK_FAILED;
		if (chip.runningState !== 1 && chip.runningState !== 2) return ESP_ERR_INVALID_STATE;
		chip.runningState = 3;
		chip.events.push("rollback");
		return ESP_OK;
	}

	otaplat_restart(): void {
		chip.events.push("restart");
	}

	otaplat_secure_version(): number {
		return chip.secureVersion;
	}

	otaplat_idf_target(): string {
		return "esp32";
	}

	otaplat_running_label(): string {
		return chip.runningLabel;
	}

	otaplat_firmware_name(): string {
		return chip.firmwareName;
	}

	otaplat_chip_revision(): number {
		return chip.chipRevision;
	}

	// esp32: esp_ota_* with resume
	otaplat_ota_capacity(): number {
		return chip.slotBytes;
	}

	otaplat_ota_begin(resumeAt: number): number {
		if (chip.rollbackEnabled && chip.runningState === 1) return ESP_ERR_OTA_ROLLBACK_INVALID_STATE;
		if (resumeAt > chip.slotBytes) return 0x102;
		chip.otaOpen = true;
		chip.slotWritten = resumeAt;
		chip.slot.fill(0xff, resumeAt);
		chip.otaCalls.push(resumeAt ? `resume ${resumeAt}` : "begin");
		return ESP_OK;
	}

	otaplat_ota_write(buffer: ArrayBuffer, offset: number, length: number): number {
		if (!chip.otaOpen) return ESP_ERR_INVALID_STATE;
		if (chip.slotWritten + length > chip.slotBytes) return ESP_ERR_INVALID_SIZE;
		chip.slot.set(bytesOf(buffer, offset, length), chip.slotWritten);
		chip.slotWritten += length;
		return ESP_OK;
	}

	otaplat_ota_end(): number {
		if (!chip.otaOpen) return ESP_ERR_INVALID_STATE;
		chip.otaOpen = false;
		const verifier = new ImageVerifier(createDigest, {chipId: 0, capacity: chip.slotBytes});
		verifier.write(chip.slot.subarray(0, chip.slotWritten));
		if (!verifier.end().valid) return ESP_ERR_OTA_VALIDATE_FAILED;
		chip.bootPartition = "next";
		chip.updateSlotState = chip.rollbackEnabled ? 0 : -1;
		return ESP_OK;
	}

	otaplat_ota_abort(): void {
		chip.otaOpen = false;
	}

	/** esp_partition_read of the slot esp_ota_begin / esp_ota_resume opened (only while open, as the C code). */
	otaplat_ota_read(at: number, buffer: ArrayBuffer, offset: number, length: number): number {
		if (!chip.otaOpen) return ESP_ERR_INVALID_STATE;
		if (at + length > chip.slotBytes) return ESP_ERR_INVALID_SIZE;
		bytesOf(buffer, offset, length).set(chip.slot.subarray(at, at + length));
		return ESP_OK;
	}

	/** esp_ota_get_state_partition(esp_ota_get_next_update_partition(NULL)), coded as otaplat_running_state. */
	otaplat_update_slot_state(): number {
		return chip.updateSlotState;
	}

	// esp32: fctry claim data, as native/otaplat_esp32.c reads it: nvs_get_blob, and nvs_get_str
	// when that says ESP_ERR_NVS_NOT_FOUND or ESP_ERR_NVS_TYPE_MISMATCH (a string-typed entry).
	otaplat_fctry_size(key: string): number {
		const size = {value: 0};
		let err = nvsGetBlob(chip.fctry, key, undefined, size);
		if (tryString(err)) {
			err = nvsGetStr(chip.fctry, key, undefined, size);
			if (err === ESP_OK && size.value) size.value -= 1;
		}
		return err === ESP_OK ? size.value : -err;
	}

	otaplat_fctry_read(key: string, buffer: ArrayBuffer, offset: number, length: number): number {
		const size = {value: length};
		let err = nvsGetBlob(chip.fctry, key, bytesOf(buffer, offset, length), size);
		if (tryString(err)) {
			const textSize = {value: 0};
			err = nvsGetStr(chip.fctry, key, undefined, textSize);
			if (err === ESP_OK && textSize.value <= length + 1) {
				const text = new Uint8Array(textSize.value);
				err = nvsGetStr(chip.fctry, key, text, textSize);
				if (err === ESP_OK) {
					size.value = textSize.value ? textSize.value - 1 : 0;
					bytesOf(buffer, offset, size.value).set(text.subarray(0, size.value));
				}
			} else if (err === ESP_OK) err = ESP_ERR_NVS_INVALID_LENGTH;
		}
		return err === ESP_OK ? size.value : -err;
	}

	// esp32: NVS u16 entries, kept with the preference stand-in's entries (a Preference.get of them is undefined, as nvs_get_u8/i32/str/blob of a u16)
	otaplat_nvs_get_u16(space: string, key: string): number {
		const value = preferenceStorage.get(space)?.get(key);
		if (value === undefined) return -ESP_ERR_NVS_NOT_FOUND;
		return isU16Entry(value) ? value.u16 : -ESP_ERR_NVS_TYPE_MISMATCH;
	}

	otaplat_nvs_set_u16(space: string, key: string, value: number): number {
		let entries = preferenceStorage.get(space);
		if (!entries) preferenceStorage.set(space, (entries = new Map()));
		entries.set(key, {u16: value & 0xffff});
		return ESP_OK;
	}

	// lin
	otaplat_flash_open(): number {
		const dir = flashDir();
		if (!dir) return -1;
		const path = join(dir, "flash.bin");
		if (!existsSync(path)) return -2;
		let flash = linFlashes.get(path);
		if (!flash) {
			flash = new FileFlash(path, {sync: false});
			linFlashes.set(path, flash);
		}
		return flash.size;
	}

	#flash(): FileFlash {
		const flash = linFlashes.get(join(flashDir() ?? "", "flash.bin"));
		if (!flash) throw new Error("otaplat stand-in: flash not open");
		return flash;
	}

	otaplat_flash_read(at: number, buffer: ArrayBuffer, offset: number, length: number): number {
		bytesOf(buffer, offset, length).set(this.#flash().read(at, length));
		return 0;
	}

	otaplat_flash_write(at: number, buffer: ArrayBuffer, offset: number, length: number): number {
		this.#flash().write(at, bytesOf(buffer, offset, length).slice());
		return 0;
	}

	otaplat_flash_erase(at: number, length: number): number {
		try {
			this.#flash().erase(at, length);
			return 0;
		} catch {
			return -22;
		}
	}

	otaplat_file_size(name: string): number {
		const path = join(flashDir() ?? "/nonexistent", name);
		return existsSync(path) ? statSync(path).size : -2;
	}

	otaplat_file_read(name: string, buffer: ArrayBuffer, offset: number, length: number): number {
		const bytes = readFileSync(join(flashDir() ?? "/nonexistent", name));
		const count = Math.min(length, bytes.length);
		new Uint8Array(buffer, offset, count).set(bytes.subarray(0, count));
		return count;
	}

	otaplat_file_write(name: string, buffer: ArrayBuffer, offset: number, length: number): number {
		const path = join(flashDir() ?? "/nonexistent", name);
		writeFileSync(path + ".tmp", bytesOf(buffer, offset, length));
		renameSync(path + ".tmp", path);
		return 0;
	}

	otaplat_console_read(buffer: ArrayBuffer, offset: number, length: number): number {
		const result = this.#consoleRead(buffer, offset, length);
		consoleInput.onRead?.(result);
		return result;
	}

	#consoleRead(buffer: ArrayBuffer, offset: number, length: number): number {
		if (!consoleInput.text) return consoleInput.ended ? -1 : 0;
		const bytes = Buffer.from(consoleInput.text, "utf8").subarray(0, length);
		consoleInput.text = consoleInput.text.slice(bytes.toString("utf8").length);
		new Uint8Array(buffer, offset, bytes.length).set(bytes);
		return bytes.length;
	}
}
