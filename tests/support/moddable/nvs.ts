/*
 * nvs_get_blob and nvs_get_str of ESP-IDF v6.0 on an NVS namespace held as a Map (blob-typed
 * entries as Uint8Array, string-typed ones as string), for the "mc/ffi" stand-in of
 * native/otaplat_esp32.c. What matters for the fctry reader (docs/device.md, section 3):
 * - a read of the other type is ESP_ERR_NVS_NOT_FOUND, not ESP_ERR_NVS_TYPE_MISMATCH: Page::findItem
 *   reports the mismatch, but Storage::findItem (components/nvs_flash/src/nvs_storage.cpp) returns
 *   NOT_FOUND whenever no page answers ESP_OK;
 * - a string's size counts its NUL (nvs_set_str stores strlen + 1 bytes);
 * - length NULL-out (out === undefined) asks for the size; a smaller *length is
 *   ESP_ERR_NVS_INVALID_LENGTH with *length set to the size (nvs_get_str_or_blob in nvs_api.cpp).
 */
export const ESP_OK = 0;
export const ESP_ERR_NVS_NOT_FOUND = 0x1102;
export const ESP_ERR_NVS_TYPE_MISMATCH = 0x1103;
export const ESP_ERR_NVS_INVALID_LENGTH = 0x110c;

export type NvsNamespace = ReadonlyMap<string, Uint8Array | string>;

/** The stored bytes of an entry of the given type, or undefined (absent, or stored as the other type). */
function stored(ns: NvsNamespace, key: string, type: "blob" | "string"): Uint8Array | undefined {
	const value = ns.get(key);
	if (type === "blob") return value instanceof Uint8Array ? value : undefined;
	return typeof value === "string" ? new TextEncoder().encode(value + "\0") : undefined;
}

function get(
	ns: NvsNamespace,
	key: string,
	type: "blob" | "string",
	out: Uint8Array | undefined,
	length: {value: number},
): number {
	const bytes = stored(ns, key, type);
	if (!bytes) return ESP_ERR_NVS_NOT_FOUND;
	if (!out) {
		length.value = bytes.length;
		return ESP_OK;
	}
	if (length.value < bytes.length) {
		length.value = bytes.length;
		return ESP_ERR_NVS_INVALID_LENGTH;
	}
	length.value = bytes.length;
	out.set(bytes);
	return ESP_OK;
}

/** nvs_get_blob(handle, key, out, &length.value). */
export function nvsGetBlob(
	ns: NvsNamespace,
	key: string,
	out: Uint8Array | undefined,
	length: {value: number},
): number {
	return get(ns, key, "blob", out, length);
}

/** nvs_get_str(handle, key, out, &length.value): the bytes written include the NUL. */
export function nvsGetStr(ns: NvsNamespace, key: string, out: Uint8Array | undefined, length: {value: number}): number {
	return get(ns, key, "string", out, length);
}
