/*
 * ESP-IDF partition tables in their CSV form (gen_esp32part.py): name, type, subtype, offset, size,
 * flags. Sizes and offsets are hex, decimal or with a K/M suffix; an empty offset follows the
 * previous partition, aligned to 64 KiB for apps and 4 KiB for data, the first one after the
 * partition table at 0x8000 (so at 0x9000). Platform neutral: the host reads the CSV from a file
 * (host/adapters/partitions.ts), the lin build from a resource.
 */
export const PARTITION_TABLE_OFFSET = 0x8000;
export const PARTITION_TABLE_LENGTH = 0x1000;
export const APP_ALIGNMENT = 0x10000;
export const DATA_ALIGNMENT = 0x1000;

const TYPES: {readonly [name: string]: number} = {app: 0x00, data: 0x01};
const APP_SUBTYPES: {readonly [name: string]: number} = {factory: 0x00, test: 0x20};
for (let i = 0; i < 16; i++) (APP_SUBTYPES as {[name: string]: number})["ota_" + i] = 0x10 + i;
const DATA_SUBTYPES: {readonly [name: string]: number} = {
	ota: 0x00,
	phy: 0x01,
	nvs: 0x02,
	coredump: 0x03,
	nvs_keys: 0x04,
	efuse: 0x05,
	undefined: 0x06,
	esphttpd: 0x80,
	fat: 0x81,
	spiffs: 0x82,
	littlefs: 0x83,
};

export const TYPE_APP = 0x00;
export const TYPE_DATA = 0x01;
export const SUBTYPE_FACTORY = 0x00;
export const SUBTYPE_OTA_0 = 0x10;
export const SUBTYPE_TEST = 0x20;
export const SUBTYPE_DATA_OTA = 0x00;

export interface Partition {
	readonly name: string;
	/** 0x00 app, 0x01 data, or a custom type. */
	readonly type: number;
	readonly subtype: number;
	readonly offset: number;
	readonly size: number;
	readonly flags: readonly string[];
}

export class PartitionTableError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "PartitionTableError";
	}
}

export class PartitionTable {
	readonly partitions: readonly Partition[];

	constructor(partitions: readonly Partition[]) {
		this.partitions = partitions;
	}

	find(name: string): Partition | undefined {
		return this.partitions.find(p => p.name === name);
	}

	/** The first partition of that type and subtype (esp_partition_find_first). */
	findFirst(type: number, subtype: number): Partition | undefined {
		return this.partitions.find(p => p.type === type && p.subtype === subtype);
	}

	/** OTA app slots in slot order ota_0, ota_1, … (as ESP-IDF counts them: up to the first missing one). */
	otaSlots(): Partition[] {
		const slots: Partition[] = [];
		for (let i = 0; i < 16; i++) {
			const slot = this.findFirst(TYPE_APP, SUBTYPE_OTA_0 + i);
			if (!slot) break;
			slots.push(slot);
		}
		return slots;
	}

	factory(): Partition | undefined {
		return this.findFirst(TYPE_APP, SUBTYPE_FACTORY);
	}

	otadata(): Partition | undefined {
		return this.findFirst(TYPE_DATA, SUBTYPE_DATA_OTA);
	}

	/** End of the last partition. */
	get end(): number {
		let end = 0;
		for (const p of this.partitions) end = Math.max(end, p.offset + p.size);
		return end;
	}
}

/** Parses a partitions.csv text. Throws PartitionTableError naming the line on bad input. */
export function parsePartitionTable(csv: string, flashSize?: number): PartitionTable {
	const partitions: Partition[] = [];
	let next = PARTITION_TABLE_OFFSET + PARTITION_TABLE_LENGTH;
	const lines = csv.split(/\r?\n/);
	for (let n = 0; n < lines.length; n++) {
		const line = lines[n].trim();
		if (line === "" || line.startsWith("#")) continue;
		const where = "partitions.csv line " + (n + 1);
		const fields = line.split(",").map(f => f.trim());
		if (fields.length < 5)
			throw new PartitionTableError(where + ": expected name, type, subtype, offset, size[, flags]");
		const [name, typeText, subtypeText, offsetText, sizeText] = fields;
		if (name === "" || name.length > 16)
			throw new PartitionTableError(where + ": partition name must have 1 to 16 characters");
		if (partitions.some(p => p.name === name))
			throw new PartitionTableError(where + ": duplicate partition name " + name);
		const type = parseKind(typeText, TYPES, where, "type");
		const subtypes = type === TYPE_APP ? APP_SUBTYPES : type === TYPE_DATA ? DATA_SUBTYPES : {};
		const subtype =
			subtypeText === "" && type !== TYPE_APP && type !== TYPE_DATA
				? 0
				: parseKind(subtypeText, subtypes, where, "subtype");
		const alignment = type === TYPE_APP ? APP_ALIGNMENT : DATA_ALIGNMENT;
		let offset: number;
		if (offsetText === "") offset = Math.ceil(next / alignment) * alignment;
		else {
			offset = parseNumber(offsetText, where, "offset");
			if (offset % alignment !== 0)
				throw new PartitionTableError(
					where + ": offset 0x" + offset.toString(16) + " is not aligned to 0x" + alignment.toString(16),
				);
			if (offset < PARTITION_TABLE_OFFSET + PARTITION_TABLE_LENGTH)
				throw new PartitionTableError(
					where + ": offset 0x" + offset.toString(16) + " overlaps the bootloader or the partition table",
				);
		}
		const size = parseNumber(sizeText, where, "size");
		if (size <= 0) throw new PartitionTableError(where + ": size must be positive");
		if (type === TYPE_APP && size % DATA_ALIGNMENT !== 0)
			throw new PartitionTableError(
				where + ": app partition size 0x" + size.toString(16) + " is not a multiple of 4 KiB",
			);
		for (const p of partitions) {
			if (offset < p.offset + p.size && p.offset < offset + size)
				throw new PartitionTableError(where + ": " + name + " overlaps " + p.name);
		}
		if (flashSize !== undefined && offset + size > flashSize)
			throw new PartitionTableError(
				where +
					": " +
					name +
					" ends at 0x" +
					(offset + size).toString(16) +
					", past the flash size 0x" +
					flashSize.toString(16),
			);
		const flags = fields
			.slice(5)
			.flatMap(f => f.split(":"))
			.map(f => f.trim())
			.filter(f => f !== "");
		partitions.push({name, type, subtype, offset, size, flags});
		next = offset + size;
	}
	if (partitions.length === 0) throw new PartitionTableError("partitions.csv: no partitions");
	return new PartitionTable(partitions);
}

function parseKind(text: string, names: {readonly [name: string]: number}, where: string, what: string): number {
	const key = text.toLowerCase();
	if (Object.prototype.hasOwnProperty.call(names, key)) return names[key];
	if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
		const value = Number(text);
		if (value <= 0xfe) return value;
	}
	throw new PartitionTableError(where + ": unknown " + what + ' "' + text + '"');
}

function parseNumber(text: string, where: string, what: string): number {
	const match = /^(0x[0-9a-f]+|\d+)\s*([km]?)$/i.exec(text);
	if (!match)
		throw new PartitionTableError(where + ": " + what + ' "' + text + '" is not a number (hex, decimal, K or M)');
	const unit = match[2].toLowerCase();
	return Number(match[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 * 1024 : 1);
}
