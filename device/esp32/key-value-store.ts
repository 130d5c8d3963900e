/*
 * KeyValueStore port of the ESP32 on Moddable's `preference` (NVS; the lin build keeps its state in
 * device/lin/file-store.ts). One domain per store ("rmaker_ota" for the OTA state, as the
 * reference). NVS limits namespace and key names to 15 characters and rejects non-integer numbers;
 * the limits are checked here with a clear error.
 */
import Preference from "preference";
import type {KeyValueStore} from "../../rainmaker/ports";
import {utf8Length} from "../../rainmaker/utf8";

/** NVS_KEY_NAME_MAX_SIZE - 1. */
export const MAX_KEY_LENGTH = 15;
/** Largest string value NVS takes (Moddable's files.md: 4000 bytes). */
export const MAX_VALUE_BYTES = 4000;

export class KeyValueError extends Error {
	override name = "KeyValueError";
}

function checkName(kind: string, name: string): void {
	if (typeof name !== "string" || name.length === 0 || name.length > MAX_KEY_LENGTH)
		throw new KeyValueError(`${kind} "${String(name)}" must have 1 to ${MAX_KEY_LENGTH} characters (NVS limit)`);
}

export class PreferenceStore implements KeyValueStore {
	readonly domain: string;

	constructor(domain: string) {
		checkName("preference domain", domain);
		this.domain = domain;
	}

	get(key: string): string | number | boolean | undefined {
		checkName("preference key", key);
		const value = Preference.get(this.domain, key);
		if (value === undefined || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
			return value;
		throw new KeyValueError(`preference ${this.domain}/${key} holds a buffer, not a string, number or boolean`);
	}

	set(key: string, value: string | number | boolean): void {
		checkName("preference key", key);
		if (typeof value === "number" && !(Number.isInteger(value) && value >= -0x80000000 && value <= 0x7FFFFFFF))
			throw new KeyValueError(`preference ${this.domain}/${key}: ${value} is not a 32-bit integer (NVS stores i32)`);
		if (typeof value === "string" && utf8Length(value) > MAX_VALUE_BYTES)
			throw new KeyValueError(`preference ${this.domain}/${key}: value longer than ${MAX_VALUE_BYTES} bytes`);
		if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
			throw new KeyValueError(`preference ${this.domain}/${key}: unsupported value type ${typeof value}`);
		Preference.set(this.domain, key, value);
	}

	delete(key: string): void {
		checkName("preference key", key);
		Preference.delete(this.domain, key);
	}
}
