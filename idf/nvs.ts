/*
 * A reader of ESP-IDF's NVS partition format (nvs_flash: nvs_page.cpp, nvs_types.h; the format
 * nvs_partition_gen.py writes), platform neutral: the host simulator and the lin build read the
 * `fctry` partition of their flash file with it, where a claimed RainMaker node keeps its
 * credentials (namespace `rmaker_creds`).
 *
 * Format, per 4 KiB page:
 * - header (32 bytes): state u32, seq u32, version u8 (0xFE = v2, 0xFF = v1), 19 reserved bytes,
 *   crc32 u32 of bytes 4..28;
 * - entry state bitmap (32 bytes at 32): 2 bits per entry, 0b11 empty, 0b10 written, 0b00 erased;
 * - 126 entries of 32 bytes from offset 64: nsIndex u8, type u8, span u8, chunkIndex u8, crc32 u32
 *   of bytes 0..4 + 8..32, key[16] (NUL padded), data[8].
 * Namespaces are U8 entries of namespace index 0 whose value is the namespace's index. Strings
 * (SZ) and v1 blobs (BLOB) keep {size u16, 0xFFFF, crc32 u32 of the data} in `data`, followed by
 * span − 1 entries of raw data. A v2 blob is BLOB_DATA chunks (chunkIndex = chunkStart + n, same
 * layout) that may sit on different pages, plus a BLOB_IDX entry {size u32, chunkCount u8,
 * chunkStart u8}. CRCs are zlib's crc32(data, 0xFFFFFFFF) (= esp_rom_crc32_le(0xFFFFFFFF, …)).
 * As ESP-IDF does, an entry with a bad CRC and a page with a bad header CRC are skipped; pages are
 * read in seq order and a later item replaces an earlier one of the same namespace and key.
 */
import {romCrc32Le} from "./otadata";

export const NVS_PAGE_SIZE = 4096;
export const NVS_ENTRY_SIZE = 32;
export const NVS_ENTRIES_PER_PAGE = 126;
export const NVS_FIRST_ENTRY_OFFSET = 64;

export const NvsPageState = Object.freeze({
	UNINITIALIZED: 0xffffffff,
	ACTIVE: 0xfffffffe,
	FULL: 0xfffffffc,
	FREEING: 0xfffffff8,
	CORRUPT: 0xfffffff0,
});

export const NvsType = Object.freeze({
	U8: 0x01,
	I8: 0x11,
	U16: 0x02,
	I16: 0x12,
	U32: 0x04,
	I32: 0x14,
	U64: 0x08,
	I64: 0x18,
	SZ: 0x21,
	BLOB: 0x41,
	BLOB_DATA: 0x42,
	BLOB_IDX: 0x48,
});

export const NVS_VERSION_1 = 0xff;
export const NVS_VERSION_2 = 0xfe;
export const NVS_CHUNK_ANY = 0xff;

export type NvsValue = number | bigint | string | Uint8Array;

export class NvsError extends Error {
	override name = "NvsError";
}

/** crc32 of an entry: bytes 0..4 and 8..32. */
export function nvsEntryCrc(entry: Uint8Array): number {
	const bytes = new Uint8Array(28);
	bytes.set(entry.subarray(0, 4), 0);
	bytes.set(entry.subarray(8, 32), 4);
	return romCrc32Le(0xffffffff, bytes);
}

export function nvsDataCrc(data: Uint8Array): number {
	return romCrc32Le(0xffffffff, data);
}

interface Item {
	ns: number;
	type: number;
	chunkIndex: number;
	key: string;
	/** Primitive value (bytes 24..32) or the variable-length data. */
	value: NvsValue;
	/** BLOB_IDX fields. */
	blobSize?: number;
	chunkCount?: number;
	chunkStart?: number;
}

function keyOf(entry: Uint8Array): string {
	let end = 8;
	while (end < 24 && entry[end] !== 0) end++;
	let key = "";
	for (let i = 8; i < end; i++) key += String.fromCharCode(entry[i]);
	return key;
}

function entryState(page: Uint8Array, index: number): number {
	const bit = index * 2;
	return (page[32 + (bit >> 3)] >> (bit & 7)) & 3;
}

const ENTRY_WRITTEN = 2;

function primitive(type: number, view: DataView): NvsValue | undefined {
	switch (type) {
		case NvsType.U8:
			return view.getUint8(24);
		case NvsType.I8:
			return view.getInt8(24);
		case NvsType.U16:
			return view.getUint16(24, true);
		case NvsType.I16:
			return view.getInt16(24, true);
		case NvsType.U32:
			return view.getUint32(24, true);
		case NvsType.I32:
			return view.getInt32(24, true);
		case NvsType.U64:
			return view.getBigUint64(24, true);
		case NvsType.I64:
			return view.getBigInt64(24, true);
		default:
			return undefined;
	}
}

function decodeUtf8(bytes: Uint8Array): string {
	let text = "";
	for (let i = 0; i < bytes.length;) {
		const b = bytes[i++];
		let code = b;
		if (b >= 0xf0) {
			code = ((b & 0x07) << 18) | ((bytes[i++] & 0x3f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
		} else if (b >= 0xe0) {
			code = ((b & 0x0f) << 12) | ((bytes[i++] & 0x3f) << 6) | (bytes[i++] & 0x3f);
		} else if (b >= 0xc0) {
			code = ((b & 0x1f) << 6) | (bytes[i++] & 0x3f);
		}
		text += String.fromCodePoint(code);
	}
	return text;
}

/** The items of one page, in entry order (entries with a bad CRC or bad data CRC are left out). */
function readPage(page: Uint8Array, skipped: string[], pageNumber: number): Item[] {
	const items: Item[] = [];
	for (let index = 0; index < NVS_ENTRIES_PER_PAGE;) {
		if (entryState(page, index) !== ENTRY_WRITTEN) {
			index++;
			continue;
		}
		const at = NVS_FIRST_ENTRY_OFFSET + index * NVS_ENTRY_SIZE;
		const entry = page.subarray(at, at + NVS_ENTRY_SIZE);
		const entryView = new DataView(page.buffer, page.byteOffset + at, NVS_ENTRY_SIZE);
		const span = entry[2];
		if (entryView.getUint32(4, true) !== nvsEntryCrc(entry)) {
			skipped.push(`page ${pageNumber} entry ${index}: bad entry CRC`);
			index++;
			continue;
		}
		if (span < 1 || index + span > NVS_ENTRIES_PER_PAGE) {
			skipped.push(`page ${pageNumber} entry ${index}: bad span ${span}`);
			index++;
			continue;
		}
		const type = entry[1];
		const item: Item = {ns: entry[0], type, chunkIndex: entry[3], key: keyOf(entry), value: 0};
		if (type === NvsType.SZ || type === NvsType.BLOB || type === NvsType.BLOB_DATA) {
			const size = entryView.getUint16(24, true);
			const dataAt = at + NVS_ENTRY_SIZE;
			let written = true;
			for (let i = 1; i < span; i++) written &&= entryState(page, index + i) === ENTRY_WRITTEN;
			if (!written || size > (span - 1) * NVS_ENTRY_SIZE) {
				skipped.push(`page ${pageNumber} entry ${index} (${item.key}): data entries missing`);
				index += span;
				continue;
			}
			const data = page.slice(dataAt, dataAt + size);
			if (nvsDataCrc(data) !== entryView.getUint32(28, true)) {
				skipped.push(`page ${pageNumber} entry ${index} (${item.key}): bad data CRC`);
				index += span;
				continue;
			}
			item.value = data;
		} else if (type === NvsType.BLOB_IDX) {
			item.blobSize = entryView.getUint32(24, true);
			item.chunkCount = entry[28];
			item.chunkStart = entry[29];
		} else {
			const value = primitive(type, entryView);
			if (value === undefined) {
				skipped.push(`page ${pageNumber} entry ${index} (${item.key}): unknown type 0x${type.toString(16)}`);
				index += span;
				continue;
			}
			item.value = value;
		}
		items.push(item);
		index += span;
	}
	return items;
}

/** The contents of an NVS partition. */
export class NvsPartition {
	readonly #namespaces = new Map<string, number>();
	readonly #values = new Map<string, NvsValue>();
	/** Why entries or pages were left out (bad CRCs), for diagnostics. */
	readonly skipped: string[] = [];

	/** `read(offset, length)` reads the partition; `size` is its length (a multiple of 4 KiB). */
	constructor(read: (offset: number, length: number) => Uint8Array, size: number) {
		if (size <= 0 || size % NVS_PAGE_SIZE !== 0)
			throw new NvsError(`NVS partition size ${size} is not a positive multiple of ${NVS_PAGE_SIZE}`);
		const pages: {seq: number; items: Item[]}[] = [];
		for (let n = 0; n < size / NVS_PAGE_SIZE; n++) {
			const page = read(n * NVS_PAGE_SIZE, NVS_PAGE_SIZE);
			const header = new DataView(page.buffer, page.byteOffset, 32);
			const state = header.getUint32(0, true);
			if (state === NvsPageState.UNINITIALIZED) continue;
			if (state !== NvsPageState.ACTIVE && state !== NvsPageState.FULL && state !== NvsPageState.FREEING) {
				this.skipped.push(`page ${n}: state 0x${state.toString(16)}`);
				continue;
			}
			if (header.getUint32(28, true) !== romCrc32Le(0xffffffff, page.subarray(4, 28))) {
				this.skipped.push(`page ${n}: bad header CRC`);
				continue;
			}
			const version = page[8];
			if (version !== NVS_VERSION_1 && version !== NVS_VERSION_2) {
				this.skipped.push(`page ${n}: unknown version 0x${version.toString(16)}`);
				continue;
			}
			pages.push({seq: header.getUint32(4, true), items: readPage(page, this.skipped, n)});
		}
		pages.sort((a, b) => a.seq - b.seq);
		const items = pages.flatMap(page => page.items);
		for (const item of items) {
			if (item.ns === 0 && item.type === NvsType.U8) this.#namespaces.set(item.key, item.value as number);
		}
		const chunks = new Map<string, Uint8Array>();
		for (const item of items) {
			if (item.ns === 0) continue;
			const name = item.ns + "/" + item.key;
			if (item.type === NvsType.BLOB_DATA) chunks.set(name + "#" + item.chunkIndex, item.value as Uint8Array);
			else if (item.type !== NvsType.BLOB_IDX)
				this.#values.set(
					name,
					item.type === NvsType.SZ ? decodeUtf8(trimNul(item.value as Uint8Array)) : item.value,
				);
		}
		for (const item of items) {
			if (item.type !== NvsType.BLOB_IDX || item.ns === 0) continue;
			const name = item.ns + "/" + item.key;
			const parts: Uint8Array[] = [];
			let total = 0;
			for (let i = 0; i < item.chunkCount!; i++) {
				const chunk = chunks.get(name + "#" + ((item.chunkStart! + i) & 0xff));
				if (!chunk) break;
				parts.push(chunk);
				total += chunk.length;
			}
			if (parts.length !== item.chunkCount || total !== item.blobSize) {
				this.skipped.push(
					`blob ${item.key}: chunks missing or of the wrong size (${total} of ${item.blobSize} bytes)`,
				);
				continue;
			}
			const blob = new Uint8Array(total);
			let at = 0;
			for (const part of parts) {
				blob.set(part, at);
				at += part.length;
			}
			this.#values.set(name, blob);
		}
	}

	namespaces(): string[] {
		return [...this.#namespaces.keys()];
	}

	/** The value of `key` in `namespace`, or undefined. Blobs are Uint8Array, strings string. */
	get(namespace: string, key: string): NvsValue | undefined {
		const index = this.#namespaces.get(namespace);
		return index === undefined ? undefined : this.#values.get(index + "/" + key);
	}

	/** A string or a blob as text (RainMaker stores its credentials as blobs, without a NUL). */
	text(namespace: string, key: string): string | undefined {
		const value = this.get(namespace, key);
		if (typeof value === "string") return value;
		if (value instanceof Uint8Array) return decodeUtf8(trimNul(value));
		return undefined;
	}

	/** The keys present in a namespace. */
	keys(namespace: string): string[] {
		const index = this.#namespaces.get(namespace);
		if (index === undefined) return [];
		const prefix = index + "/";
		return [...this.#values.keys()].filter(name => name.startsWith(prefix)).map(name => name.slice(prefix.length));
	}
}

function trimNul(bytes: Uint8Array): Uint8Array {
	let end = bytes.length;
	while (end > 0 && bytes[end - 1] === 0) end--;
	return bytes.subarray(0, end);
}
