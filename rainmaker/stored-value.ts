/*
 * Checks and the JSON form of the key-value store's typed values (rainmaker/ports.ts StoredValue),
 * shared by the stores that keep NVS's types in a JSON file (the host simulator's and the lin
 * build's nvs.json): the limits NVS applies (15-character keys, each integer type's range, 4000
 * bytes of string, blobs up to 4000 bytes here) and one encoding: {"t": type, "v": value}, a blob's
 * value in hex. A plain JSON value of an earlier file (string, number, boolean) reads as str, i32, u8.
 */
import type {NvsIntegerType, StoredValue} from "./ports";
import {utf8Length} from "./utf8";

export const MAX_KEY_LENGTH = 15;
/** Largest string or blob kept (Moddable's preference limit on the device: 4000 bytes). */
export const MAX_VALUE_BYTES = 4000;

const RANGES: {readonly [type in NvsIntegerType]: readonly [number, number]} = {
	u8: [0, 0xff],
	i8: [-0x80, 0x7f],
	u16: [0, 0xffff],
	i16: [-0x8000, 0x7fff],
	u32: [0, 0xffffffff],
	i32: [-0x80000000, 0x7fffffff],
};

export class StoredValueError extends Error {
	override name = "StoredValueError";
}

export function checkKey(key: string): void {
	if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH)
		throw new StoredValueError(
			`key-value store: key "${String(key)}" must be 1..${MAX_KEY_LENGTH} characters (NVS limit)`,
		);
}

export function isIntegerType(type: string): type is NvsIntegerType {
	return Object.prototype.hasOwnProperty.call(RANGES, type);
}

/** Throws a StoredValueError naming the key when NVS could not hold `value`. */
export function checkValue(key: string, value: StoredValue): void {
	if (isIntegerType(value.type)) {
		const [min, max] = RANGES[value.type];
		const number = value.value as number;
		if (!Number.isInteger(number) || number < min || number > max)
			throw new StoredValueError(
				`key-value store: ${key}: ${number} does not fit NVS type ${value.type} (${min}..${max})`,
			);
	} else if (value.type === "str") {
		if (typeof value.value !== "string" || utf8Length(value.value) > MAX_VALUE_BYTES)
			throw new StoredValueError(
				`key-value store: ${key}: a str value must be a string of at most ${MAX_VALUE_BYTES} bytes`,
			);
	} else if (value.type === "blob") {
		if (!(value.value instanceof Uint8Array) || value.value.length > MAX_VALUE_BYTES)
			throw new StoredValueError(
				`key-value store: ${key}: a blob value must be at most ${MAX_VALUE_BYTES} bytes`,
			);
	} else
		throw new StoredValueError(
			`key-value store: ${key}: unknown NVS type ${String((value as {type: unknown}).type)}`,
		);
}

function hex(bytes: Uint8Array): string {
	let text = "";
	for (let index = 0; index < bytes.length; index++)
		text += (bytes[index] < 16 ? "0" : "") + bytes[index].toString(16);
	return text;
}

/** The JSON form of a value. */
export function toJson(value: StoredValue): {t: string; v: string | number} {
	return {t: value.type, v: value.type === "blob" ? hex(value.value) : value.value};
}

/** A value of the JSON form (or a plain value of an earlier file); undefined for anything else (skipped, as NVS skips a bad entry). */
export function fromJson(data: unknown): StoredValue | undefined {
	if (typeof data === "string") return {type: "str", value: data};
	if (typeof data === "number") return Number.isInteger(data) ? {type: "i32", value: data} : undefined;
	if (typeof data === "boolean") return {type: "u8", value: data ? 1 : 0};
	if (typeof data !== "object" || data === null) return undefined;
	const {t, v} = data as {t?: unknown; v?: unknown};
	if (typeof t !== "string") return undefined;
	let value: StoredValue;
	if (isIntegerType(t) && typeof v === "number") value = {type: t, value: v};
	else if (t === "str" && typeof v === "string") value = {type: "str", value: v};
	else if (t === "blob" && typeof v === "string" && /^(?:[0-9a-f]{2})*$/i.test(v)) {
		const bytes = new Uint8Array(v.length / 2);
		for (let index = 0; index < bytes.length; index++)
			bytes[index] = parseInt(v.slice(index * 2, index * 2 + 2), 16);
		value = {type: "blob", value: bytes};
	} else return undefined;
	try {
		checkValue("", value);
	} catch {
		return undefined;
	}
	return value;
}
