/*
 * Stand-in of Moddable's "preference" with the esp32 (NVS) behaviour of
 * modules/files/preference/esp32/modPreference.c: namespace and key of at most 15 characters,
 * values bool / integer (i32) / string / ArrayBuffer, a non-integer number throws "float
 * unsupported", delete of a missing key is no error. Kept in memory; `preferenceStorage` lets a
 * test look at or clear what is stored.
 */
import {sharedState} from "./stand-in-state";
const NVS_NAME_MAX = 15;

/** A u16 entry written through FFI (otaplat_nvs_set_u16): Preference.get throws "nvs get fail" on it, as modPreference.c, which reads u8, i32, str and blob only. */
export type U16Entry = {readonly u16: number};
type Entry = string | number | boolean | ArrayBuffer | U16Entry;

export function isU16Entry(value: unknown): value is U16Entry {
	return typeof value === "object" && value !== null && "u16" in value;
}

export const preferenceStorage = sharedState("preference", () => new Map<string, Map<string, Entry>>());

function check(domain: string, key: string): void {
	if (domain.length > NVS_NAME_MAX || key.length > NVS_NAME_MAX) throw new Error("key too long");
}

const Preference = {
	set(domain: string, key: string, value: string | number | boolean | ArrayBuffer): void {
		check(domain, key);
		if (typeof value === "number" && !Number.isInteger(value)) throw new Error("float unsupported");
		if (
			typeof value !== "number" &&
			typeof value !== "string" &&
			typeof value !== "boolean" &&
			!(value instanceof ArrayBuffer)
		)
			throw new Error("unsupported type");
		let entries = preferenceStorage.get(domain);
		if (!entries) preferenceStorage.set(domain, (entries = new Map()));
		entries.set(key, value instanceof ArrayBuffer ? value.slice(0) : typeof value === "number" ? value | 0 : value);
	},
	get(domain: string, key: string): string | number | boolean | ArrayBuffer | undefined {
		check(domain, key);
		const value = preferenceStorage.get(domain)?.get(key);
		if (isU16Entry(value))
			// nvs_get_blob answers ESP_ERR_NVS_TYPE_MISMATCH: modPreference.c throws
			throw new Error("nvs get fail");
		return value instanceof ArrayBuffer ? value.slice(0) : value;
	},
	delete(domain: string, key: string): void {
		check(domain, key);
		preferenceStorage.get(domain)?.delete(key);
	},
	keys(domain: string): string[] {
		return Array.from(preferenceStorage.get(domain)?.keys() ?? []);
	},
};

export default Preference;
