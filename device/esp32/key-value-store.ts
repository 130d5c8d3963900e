/*
 * KeyValueStore port of the ESP32 on Moddable's `preference` (NVS, default "nvs" partition; the lin
 * build keeps its state in device/lin/file-store.ts). One domain per store ("rmaker_ota" for the
 * OTA state, as the reference). Moddable's preference module reads and writes four NVS types:
 * u8 (a boolean), i32 (an integer), str and blob (an ArrayBuffer) (modPreference.c: nvs_get_u8,
 * nvs_get_i32, nvs_get_str, nvs_get_blob, the first that matches); a u16, which esp-rainmaker keeps
 * its resume offset in, goes through FFI (native/otaplat_esp32.c otaplat_nvs_get_u16 /
 * otaplat_nvs_set_u16). An entry of a type neither reads (u32, i8, i16, 64-bit) reads as absent:
 * Preference.get throws "nvs get fail" for it, which is caught here. NVS's limits are checked here
 * with a clear error (rainmaker/stored-value.ts).
 */
import FFI from "mc/ffi";
import Preference from "preference";
import type {KeyValueStore, StoredValue} from "../../rainmaker/ports";
import {checkValue, MAX_KEY_LENGTH, MAX_VALUE_BYTES} from "../../rainmaker/stored-value";

export {MAX_KEY_LENGTH, MAX_VALUE_BYTES};

export class KeyValueError extends Error {
	override name = "KeyValueError";
}

function checkName(kind: string, name: string): void {
	if (typeof name !== "string" || name.length === 0 || name.length > MAX_KEY_LENGTH)
		throw new KeyValueError(`${kind} "${String(name)}" must have 1 to ${MAX_KEY_LENGTH} characters (NVS limit)`);
}

export class PreferenceStore implements KeyValueStore {
	readonly domain: string;
	#native: FFI | undefined;

	constructor(domain: string) {
		checkName("preference domain", domain);
		this.domain = domain;
	}

	get(key: string): StoredValue | undefined {
		checkName("preference key", key);
		// modPreference.c tries nvs_get_u8, _i32, _str, _blob and throws "nvs get fail" when the last
		// one answers ESP_ERR_NVS_TYPE_MISMATCH: an entry of another type (the reference's u16)
		let value: ReturnType<typeof Preference.get>;
		try {
			value = Preference.get(this.domain, key);
		} catch {
			value = undefined;
		}
		if (typeof value === "boolean") return {type: "u8", value: value ? 1 : 0};
		if (typeof value === "number") return {type: "i32", value};
		if (typeof value === "string") return {type: "str", value};
		if (value instanceof ArrayBuffer) return {type: "blob", value: new Uint8Array(value)};
		const u16 = this.#ffi().otaplat_nvs_get_u16(this.domain, key);
		return u16 >= 0 ? {type: "u16", value: u16} : undefined;
	}

	set(key: string, value: StoredValue): void {
		checkName("preference key", key);
		try {
			checkValue(key, value);
		} catch (error) {
			throw new KeyValueError(
				`preference ${this.domain}/${key}: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
		if (value.type === "str" || value.type === "i32") Preference.set(this.domain, key, value.value);
		else if (value.type === "blob") Preference.set(this.domain, key, value.value.slice().buffer);
		else if (value.type === "u8" && (value.value === 0 || value.value === 1))
			Preference.set(this.domain, key, value.value === 1);
		else if (value.type === "u16") {
			const error = this.#ffi().otaplat_nvs_set_u16(this.domain, key, value.value);
			if (error)
				throw new KeyValueError(
					`preference ${this.domain}/${key}: nvs_set_u16 failed (esp_err_t 0x${(-error).toString(16)})`,
				);
		} else
			throw new KeyValueError(
				`preference ${this.domain}/${key}: NVS type ${value.type} ${value.value} is not written on this platform (u8 0/1, u16, i32, str, blob are)`,
			);
	}

	delete(key: string): void {
		checkName("preference key", key);
		Preference.delete(this.domain, key);
	}

	#ffi(): FFI {
		return (this.#native ??= new FFI());
	}
}
