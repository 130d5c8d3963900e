/*
 * The CBOR (RFC 8949) of an MQTT file stream's messages, and nothing more (docs/protocol.md §5.10):
 * one map with short text keys whose values are unsigned or negative integers, byte strings or
 * text strings. That covers the GetStream request (`f`, `l`, `o`, `n`, optionally `b`), the data
 * message (`f`, `i`, `l`, `p`) and the rejected message (`o`, `m`, `c`). Definite lengths only;
 * anything else (nested items, floats, tags, indefinite lengths) is refused with a text. A decoded
 * byte string is a view into the message (no copy), so a 4 KB block costs no second 4 KB.
 */
import {utf8Bytes, utf8Decode} from "../rainmaker/utf8";

export type CborValue = number | string | Uint8Array;
export type CborMap = {readonly [key: string]: CborValue};

/** More entries than any stream message has: a map announcing more is refused before it is read. */
export const MAX_CBOR_ENTRIES = 16;
/** Longest text value read (an AWS error message or client token; the keys are one letter). */
export const MAX_CBOR_TEXT = 512;

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_MAP = 5;

function headLength(value: number): number {
	return value < 24 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : value < 0x100000000 ? 5 : 9;
}

function writeHead(out: Uint8Array, at: number, major: number, value: number): number {
	const type = major << 5;
	if (value < 24) out[at++] = type | value;
	else if (value < 0x100) {
		out[at++] = type | 24;
		out[at++] = value;
	} else if (value < 0x10000) {
		out[at++] = type | 25;
		out[at++] = value >> 8;
		out[at++] = value & 0xff;
	} else if (value < 0x100000000) {
		out[at++] = type | 26;
		out[at++] = (value >>> 24) & 0xff;
		out[at++] = (value >>> 16) & 0xff;
		out[at++] = (value >>> 8) & 0xff;
		out[at++] = value & 0xff;
	} else {
		out[at++] = type | 27;
		const high = Math.floor(value / 0x100000000);
		const low = value >>> 0;
		for (let shift = 24; shift >= 0; shift -= 8) out[at++] = (high >>> shift) & 0xff;
		for (let shift = 24; shift >= 0; shift -= 8) out[at++] = (low >>> shift) & 0xff;
	}
	return at;
}

/** Encodes a map in the order given. Integers must be safe integers; the bytes are copied once. */
export function encodeCborMap(entries: ReadonlyArray<readonly [string, CborValue]>): Uint8Array {
	const parts: Array<[Uint8Array, number, Uint8Array | undefined, number]> = [];
	let size = headLength(entries.length);
	for (const [key, value] of entries) {
		const keyBytes = utf8Bytes(key);
		let major: number, argument: number, body: Uint8Array | undefined;
		if (typeof value === "number") {
			if (!Number.isSafeInteger(value)) throw new RangeError(`CBOR: ${key} is not an integer (${value})`);
			major = value < 0 ? MAJOR_NEGATIVE : MAJOR_UNSIGNED;
			argument = value < 0 ? -1 - value : value;
		} else {
			body = typeof value === "string" ? utf8Bytes(value) : value;
			major = typeof value === "string" ? MAJOR_TEXT : MAJOR_BYTES;
			argument = body.length;
		}
		size += headLength(keyBytes.length) + keyBytes.length + headLength(argument) + (body ? body.length : 0);
		parts.push([keyBytes, major, body, argument]);
	}
	const out = new Uint8Array(size);
	let at = writeHead(out, 0, MAJOR_MAP, entries.length);
	for (const [keyBytes, major, body, argument] of parts) {
		at = writeHead(out, at, MAJOR_TEXT, keyBytes.length);
		out.set(keyBytes, at);
		at += keyBytes.length;
		at = writeHead(out, at, major, argument);
		if (body) {
			out.set(body, at);
			at += body.length;
		}
	}
	return out;
}

class Reader {
	readonly bytes: Uint8Array;
	at = 0;
	constructor(bytes: Uint8Array) {
		this.bytes = bytes;
	}

	/** [major type, argument] of the next item. Throws a text on what this subset does not read. */
	head(): [number, number] {
		const bytes = this.bytes;
		if (this.at >= bytes.length) throw new Error("CBOR message ends early");
		const first = bytes[this.at++];
		const major = first >> 5;
		const info = first & 0x1f;
		if (info < 24) return [major, info];
		const length = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
		if (length === 0) throw new Error(`CBOR item 0x${first.toString(16)} not supported (indefinite length?)`);
		if (this.at + length > bytes.length) throw new Error("CBOR message ends early");
		let value = 0;
		for (let i = 0; i < length; i++) value = value * 256 + bytes[this.at++];
		if (!Number.isSafeInteger(value)) throw new Error("CBOR integer too large");
		return [major, value];
	}

	take(length: number): Uint8Array {
		if (this.at + length > this.bytes.length) throw new Error("CBOR message ends early");
		const view = this.bytes.subarray(this.at, this.at + length);
		this.at += length;
		return view;
	}
}

/** Decodes one map of the subset; a text saying what is wrong when the message is not one. */
export function decodeCborMap(bytes: Uint8Array): CborMap | string {
	const reader = new Reader(bytes);
	try {
		const [major, count] = reader.head();
		if (major !== MAJOR_MAP) return "CBOR message is not a map";
		if (count > MAX_CBOR_ENTRIES) return `CBOR map of ${count} entries (at most ${MAX_CBOR_ENTRIES})`;
		const map: {[key: string]: CborValue} = {};
		for (let entry = 0; entry < count; entry++) {
			const [keyMajor, keyLength] = reader.head();
			if (keyMajor !== MAJOR_TEXT || keyLength > MAX_CBOR_TEXT) return "CBOR map key is not a short text";
			const key = utf8Decode(reader.take(keyLength));
			const [valueMajor, argument] = reader.head();
			if (valueMajor === MAJOR_UNSIGNED) map[key] = argument;
			else if (valueMajor === MAJOR_NEGATIVE) map[key] = -1 - argument;
			else if (valueMajor === MAJOR_BYTES) map[key] = reader.take(argument);
			else if (valueMajor === MAJOR_TEXT) {
				if (argument > MAX_CBOR_TEXT) return `CBOR text of ${key} longer than ${MAX_CBOR_TEXT} bytes`;
				map[key] = utf8Decode(reader.take(argument));
			} else return `CBOR value of ${key} has major type ${valueMajor} (not read here)`;
		}
		if (reader.at !== bytes.length) return `${bytes.length - reader.at} bytes after the CBOR map`;
		return map;
	} catch (error) {
		return error instanceof Error ? error.message : String(error);
	}
}
