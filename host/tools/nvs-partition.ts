/*
 * Writes NVS partition images by the format rules of ESP-IDF's NVS partition generator
 * (components/nvs_flash/nvs_partition_generator/nvs_partition_gen.py): pages of 4 KiB, each with
 * an ACTIVE header (seq = page number, version 0xFE for v2 or 0xFF for v1, header crc32 of bytes
 * 4..28), a bitmap in which every written entry's low bit is cleared (0b10), and 126 entries;
 * a namespace is a U8 entry of namespace 0 whose value is the next index (from 1); strings get a
 * NUL and an SZ entry {size u16, 0xFFFF, data crc32} followed by the data; with v2, binary values
 * are split into BLOB_DATA chunks that fill the current page's tail (chunkIndex 0, 1, …) and end
 * with a BLOB_IDX {size u32, chunkCount, chunkStart = 0}; with v1 they are one BLOB entry. A value
 * that does not fit the current page starts a new one, and the page before is marked FULL. All
 * pages but the last get a header, all FULL; the last page of the partition stays erased (the
 * generator's reserved page). Compared byte for byte with nvs_partition_gen.py's output (docs/device.md).
 * Used by tests and the lin tooling to make `fctry` images as `esp-rainmaker-cli claim` would.
 */
import {
	NVS_CHUNK_ANY,
	NVS_ENTRIES_PER_PAGE,
	NVS_ENTRY_SIZE,
	NVS_FIRST_ENTRY_OFFSET,
	NVS_PAGE_SIZE,
	NVS_VERSION_1,
	NVS_VERSION_2,
	NvsPageState,
	NvsType,
	nvsDataCrc,
	nvsEntryCrc,
} from "../../idf/nvs";
import {romCrc32Le} from "../../idf/otadata";
import {FCTRY_NAMESPACE} from "../../idf/fctry";

export type NvsEncoding = "u8" | "i8" | "u16" | "u32" | "i32" | "string" | "binary" | "hex2bin" | "base64";

/** The largest string value of v2 (PAGE_PARAMS max_new_blob_size) and blob of v1 (max_old_blob_size). */
const MAX_STRING = 4000;
const MAX_OLD_BLOB = 1984;

class Page {
	readonly bytes = new Uint8Array(NVS_PAGE_SIZE).fill(0xff);
	entries = 0;

	constructor(seq: number, version: number) {
		const view = new DataView(this.bytes.buffer);
		view.setUint32(0, NvsPageState.ACTIVE, true);
		view.setUint32(4, seq, true);
		this.bytes[8] = version;
		view.setUint32(28, romCrc32Le(0xffffffff, this.bytes.subarray(4, 28)), true);
	}

	get free(): number {
		return NVS_ENTRIES_PER_PAGE - this.entries;
	}

	/** Writes entries (a multiple of 32 bytes, or less for the last data entry) and marks them written. */
	put(data: Uint8Array, count: number): void {
		this.bytes.set(data, NVS_FIRST_ENTRY_OFFSET + this.entries * NVS_ENTRY_SIZE);
		for (let i = 0; i < count; i++) {
			const bit = this.entries * 2;
			this.bytes[32 + (bit >> 3)] &= ~(1 << (bit & 7));
			this.entries++;
		}
	}

	markFull(): void {
		new DataView(this.bytes.buffer).setUint32(0, NvsPageState.FULL, true);
	}
}

function header(ns: number, type: number, span: number, chunkIndex: number, key: string): Uint8Array {
	if (key.length === 0 || key.length > 15 || !/^[\x20-\x7e]+$/.test(key))
		throw new Error(`NVS key ${JSON.stringify(key)} must have 1 to 15 printable ASCII characters`);
	const entry = new Uint8Array(NVS_ENTRY_SIZE).fill(0xff);
	entry[0] = ns;
	entry[1] = type;
	entry[2] = span;
	entry[3] = chunkIndex;
	entry.fill(0, 8, 24);
	for (let i = 0; i < key.length; i++) entry[8 + i] = key.charCodeAt(i);
	return entry;
}

function seal(entry: Uint8Array): Uint8Array {
	new DataView(entry.buffer).setUint32(4, nvsEntryCrc(entry), true);
	return entry;
}

export class NvsPartitionWriter {
	readonly size: number;
	readonly version: number;
	readonly #pages: Page[] = [];
	#namespace = 0;
	#namespaceCount = 0;

	/** `size`: the partition size, a multiple of 4 KiB and at least 0x3000 (the generator's minimum). */
	constructor(size: number, version: "v1" | "v2" = "v2") {
		if (size % NVS_PAGE_SIZE !== 0 || size < 3 * NVS_PAGE_SIZE)
			throw new Error(
				`NVS partition size 0x${size.toString(16)} must be a multiple of 0x1000 and at least 0x3000`,
			);
		this.size = size;
		this.version = version === "v1" ? NVS_VERSION_1 : NVS_VERSION_2;
		this.#newPage();
	}

	#page(): Page {
		return this.#pages[this.#pages.length - 1];
	}

	#newPage(): Page {
		// one page stays reserved (erased) at the end of the partition
		if ((this.#pages.length + 1) * NVS_PAGE_SIZE > this.size - NVS_PAGE_SIZE)
			throw new Error(`NVS partition of 0x${this.size.toString(16)} bytes is too small for the data`);
		if (this.#pages.length) this.#page().markFull();
		const page = new Page(this.#pages.length, this.version);
		this.#pages.push(page);
		return page;
	}

	/** Entries of the following values go into this namespace. */
	namespace(name: string): this {
		const index = ++this.#namespaceCount;
		const entry = header(0, NvsType.U8, 1, NVS_CHUNK_ANY, name);
		entry[24] = index;
		if (this.#page().free < 1) this.#newPage();
		this.#page().put(seal(entry), 1);
		this.#namespace = index;
		return this;
	}

	/** A CSV row's value: `key,data,<encoding>,<value>`. */
	entry(key: string, encoding: NvsEncoding, value: string | number | Uint8Array): this {
		if (this.#namespace === 0) throw new Error(`NVS entry ${key}: no namespace yet`);
		switch (encoding) {
			case "u8":
			case "i8":
			case "u16":
			case "u32":
			case "i32":
				return this.#primitive(key, encoding, Number(value));
			case "string":
				return this.#string(
					key,
					typeof value === "string" ? value : new TextDecoder().decode(value as Uint8Array),
				);
			case "binary":
				return this.#blob(key, typeof value === "string" ? new TextEncoder().encode(value) : toBytes(value));
			case "hex2bin": {
				const text = String(value);
				if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text))
					throw new Error(`${key}: Invalid data length. Should be multiple of 2.`);
				return this.#blob(key, Uint8Array.from(Buffer.from(text, "hex")));
			}
			case "base64":
				return this.#blob(key, Uint8Array.from(Buffer.from(String(value), "base64")));
		}
	}

	#primitive(key: string, encoding: "u8" | "i8" | "u16" | "u32" | "i32", value: number): this {
		const types = {u8: NvsType.U8, i8: NvsType.I8, u16: NvsType.U16, u32: NvsType.U32, i32: NvsType.I32};
		const entry = header(this.#namespace, types[encoding], 1, NVS_CHUNK_ANY, key);
		const view = new DataView(entry.buffer);
		if (encoding === "u8") view.setUint8(24, value);
		else if (encoding === "i8") view.setInt8(24, value);
		else if (encoding === "u16") view.setUint16(24, value, true);
		else if (encoding === "u32") view.setUint32(24, value, true);
		else view.setInt32(24, value, true);
		if (this.#page().free < 1) this.#newPage();
		this.#page().put(seal(entry), 1);
		return this;
	}

	#string(key: string, text: string): this {
		const data = new Uint8Array([...new TextEncoder().encode(text), 0]);
		if (data.length > (this.version === NVS_VERSION_2 ? MAX_STRING : MAX_OLD_BLOB))
			throw new Error(`${key}: Size exceeds max allowed length.`);
		this.#single(key, NvsType.SZ, data);
		return this;
	}

	/** An entry with its data on one page (SZ, or a v1 BLOB). */
	#single(key: string, type: number, data: Uint8Array): void {
		const dataEntries = Math.ceil(data.length / NVS_ENTRY_SIZE);
		// the generator raises PageFullError when entries + span reaches the page's entry count
		if (this.#page().entries + dataEntries + 1 >= NVS_ENTRIES_PER_PAGE) this.#newPage();
		const entry = header(this.#namespace, type, dataEntries + 1, NVS_CHUNK_ANY, key);
		const view = new DataView(entry.buffer);
		view.setUint16(24, data.length, true);
		view.setUint32(28, nvsDataCrc(data), true);
		const page = this.#page();
		page.put(seal(entry), 1);
		page.put(data, dataEntries);
	}

	#blob(key: string, data: Uint8Array): this {
		if (this.version === NVS_VERSION_1) {
			if (data.length > MAX_OLD_BLOB) throw new Error(`${key}: Size exceeds max allowed length.`);
			this.#single(key, NvsType.BLOB, data);
			return this;
		}
		let offset = 0;
		let chunks = 0;
		// a v2 blob starts on the current page unless it is full, and fills its tail (even with a
		// header-only chunk when one entry is left), as write_varlen_binary_data does
		if (this.#page().free < 1) this.#newPage();
		for (;;) {
			const page = this.#page();
			const tailroom = (page.free - 1) * NVS_ENTRY_SIZE;
			const size = Math.min(tailroom, data.length - offset);
			const chunk = data.subarray(offset, offset + size);
			const dataEntries = Math.ceil(size / NVS_ENTRY_SIZE);
			const entry = header(this.#namespace, NvsType.BLOB_DATA, dataEntries + 1, chunks, key);
			const view = new DataView(entry.buffer);
			view.setUint16(24, size, true);
			view.setUint32(28, nvsDataCrc(chunk), true);
			page.put(seal(entry), 1);
			page.put(chunk, dataEntries);
			chunks++;
			offset += size;
			const remaining = data.length - offset;
			if (remaining > 0 || tailroom - size < NVS_ENTRY_SIZE) this.#newPage();
			if (remaining === 0) break;
		}
		const index = header(this.#namespace, NvsType.BLOB_IDX, 1, NVS_CHUNK_ANY, key);
		const view = new DataView(index.buffer);
		view.setUint32(24, data.length, true);
		index[28] = chunks;
		index[29] = 0;
		this.#page().put(seal(index), 1);
		return this;
	}

	/**
	 * The partition image. As the generator's NVS.__exit__ does, every page up to the reserved last
	 * one gets a header, and all of them end FULL (creating the reserved page marks the page before
	 * it FULL too); the reserved page stays erased.
	 */
	build(): Uint8Array {
		while ((this.#pages.length + 1) * NVS_PAGE_SIZE <= this.size - NVS_PAGE_SIZE) this.#newPage();
		this.#page().markFull();
		const image = new Uint8Array(this.size).fill(0xff);
		this.#pages.forEach((page, n) => image.set(page.bytes, n * NVS_PAGE_SIZE));
		return image;
	}
}

function toBytes(value: string | number | Uint8Array): Uint8Array {
	if (value instanceof Uint8Array) return value;
	throw new Error(`expected bytes, got ${typeof value}`);
}

/** RainMaker claim data as `esp-rainmaker-cli claim` writes it into the fctry partition (all binary). */
export interface ClaimData {
	nodeId: string;
	mqttHost: string;
	/** PEM texts as the CLI stores them. */
	clientCert: string;
	clientKey: string;
	mqttCredHost?: string;
	/** hex of the random bytes (random,data,hex2bin). */
	random?: string;
}

/** An NVS image of the fctry partition with a claimed node's credentials (namespace rmaker_creds). */
export function buildFctryImage(claim: ClaimData, size = 0x6000): Uint8Array {
	const writer = new NvsPartitionWriter(size)
		.namespace(FCTRY_NAMESPACE)
		.entry("node_id", "binary", claim.nodeId)
		.entry("mqtt_host", "binary", claim.mqttHost);
	if (claim.mqttCredHost !== undefined) writer.entry("mqtt_cred_host", "binary", claim.mqttCredHost);
	writer.entry("client_cert", "binary", claim.clientCert).entry("client_key", "binary", claim.clientKey);
	if (claim.random !== undefined) writer.entry("random", "hex2bin", claim.random);
	return writer.build();
}
