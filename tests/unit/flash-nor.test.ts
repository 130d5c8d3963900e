/*
 * The file-backed NOR flash and the partition table it is laid out from.
 */
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DEFAULT_FLASH_SIZE, FileFlash, FlashPartition, SECTOR_SIZE} from "../../host/adapters/flash";
import {
	APP_ALIGNMENT,
	PartitionTableError,
	SUBTYPE_OTA_0,
	TYPE_APP,
	TYPE_DATA,
	parsePartitionTable,
	readPartitionTable,
} from "../../host/adapters/partitions";
import {fixture} from "../support/image-fixtures";

describe("file-backed NOR flash", () => {
	let dir: string;
	const open: FileFlash[] = [];
	const flashAt = (name: string, size?: number) => {
		const flash = new FileFlash(join(dir, name), {size, sync: false});
		open.push(flash);
		return flash;
	};
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), "rmota-nor-"));
	});
	afterEach(() => {
		for (const flash of open.splice(0)) flash.close();
		rmSync(dir, {recursive: true, force: true});
	});

	it("starts fully erased at 4 MiB", () => {
		const flash = flashAt("a.bin");
		assert.equal(flash.size, DEFAULT_FLASH_SIZE);
		assert.equal(statSync(flash.path).size, DEFAULT_FLASH_SIZE);
		for (const offset of [0, 0x1234, DEFAULT_FLASH_SIZE - 16])
			assert.ok(flash.read(offset, 16).every(b => b === 0xff));
	});

	it("only clears bits when writing; erase sets a whole sector back to 0xFF", () => {
		const flash = flashAt("b.bin", 16 * SECTOR_SIZE);
		flash.write(100, new Uint8Array([0x0f, 0xf0, 0x3c]));
		flash.write(100, new Uint8Array([0xf3, 0x0f, 0xff]));
		assert.deepEqual([...flash.read(100, 3)], [0x03, 0x00, 0x3c]);
		flash.erase(0, SECTOR_SIZE);
		assert.deepEqual([...flash.read(100, 3)], [0xff, 0xff, 0xff]);
		flash.write(100, new Uint8Array([0x12]));
		assert.equal(flash.read(100, 1)[0], 0x12);
	});

	it("erases only whole, aligned sectors and refuses out-of-range access", () => {
		const flash = flashAt("c.bin", 4 * SECTOR_SIZE);
		flash.write(SECTOR_SIZE, new Uint8Array([0]));
		flash.write(2 * SECTOR_SIZE - 1, new Uint8Array([0]));
		flash.erase(SECTOR_SIZE, SECTOR_SIZE);
		assert.equal(flash.read(SECTOR_SIZE, 1)[0], 0xff);
		assert.equal(flash.read(2 * SECTOR_SIZE - 1, 1)[0], 0xff);
		assert.throws(() => flash.erase(1, SECTOR_SIZE), /not sector aligned/);
		assert.throws(() => flash.erase(0, 100), /not sector aligned/);
		assert.throws(() => flash.read(4 * SECTOR_SIZE - 1, 2), /outside/);
		assert.throws(() => flash.write(-1, new Uint8Array(1)), /outside/);
		assert.throws(() => flash.erase(4 * SECTOR_SIZE, SECTOR_SIZE), /outside/);
	});

	it("keeps its content across a reopen (a power cycle)", () => {
		const first = flashAt("d.bin", 8 * SECTOR_SIZE);
		first.write(5000, new Uint8Array([1, 2, 3]));
		first.close();
		const again = flashAt("d.bin");
		assert.equal(again.size, 8 * SECTOR_SIZE);
		assert.deepEqual([...again.read(5000, 3)], [1, 2, 3]);
	});

	it("refuses a flash size that is not whole sectors", () => {
		assert.throws(() => flashAt("e.bin", 1000), /multiple of 4096/);
	});

	it("addresses a partition from its start and keeps access inside it", () => {
		const flash = flashAt("f.bin", 16 * SECTOR_SIZE);
		const part = new FlashPartition(flash, {
			name: "p",
			type: TYPE_DATA,
			subtype: 0x02,
			offset: 2 * SECTOR_SIZE,
			size: 2 * SECTOR_SIZE,
			flags: [],
		});
		part.write(0, new Uint8Array([0x42]));
		assert.equal(flash.read(2 * SECTOR_SIZE, 1)[0], 0x42);
		assert.throws(() => part.read(2 * SECTOR_SIZE - 1, 2), /outside/);
		assert.throws(() => part.erase(2 * SECTOR_SIZE, SECTOR_SIZE), /outside/);
		assert.throws(
			() =>
				new FlashPartition(flash, {
					name: "big",
					type: TYPE_APP,
					subtype: SUBTYPE_OTA_0,
					offset: 0x10000,
					size: 0x10000,
					flags: [],
				}),
			/past the flash/,
		);
	});
});

describe("partition table (partitions.csv)", () => {
	it("reads the project's 4 MB table: nvs, otadata, phy_init, fctry and two OTA slots the largest fixture fits", () => {
		const table = readPartitionTable(undefined, DEFAULT_FLASH_SIZE);
		const names = table.partitions.map(p => p.name);
		for (const name of ["nvs", "otadata", "phy_init", "fctry", "ota_0", "ota_1"])
			assert.ok(names.includes(name), name);
		const slots = table.otaSlots();
		assert.deepEqual(
			slots.map(p => p.name),
			["ota_0", "ota_1"],
		);
		const largest = fixture("synthetic/app-2.0.0-large.bin").size;
		for (const slot of slots) {
			assert.ok(slot.size >= largest, slot.name);
			assert.equal(slot.offset % APP_ALIGNMENT, 0);
		}
		assert.equal(table.otadata()?.size, 2 * SECTOR_SIZE);
		assert.equal(table.find("fctry")?.size, 0x6000);
		assert.equal(table.find("fctry")?.subtype, 0x02);
		assert.ok(table.end <= DEFAULT_FLASH_SIZE);
	});

	it("computes empty offsets with ESP-IDF's alignment and understands K and M sizes", () => {
		const table = parsePartitionTable(
			[
				"# comment",
				"nvs,      data, nvs,     ,        24K,",
				"otadata,  data, ota,     ,        0x2000,",
				"phy_init, data, phy,     ,        4k,",
				"ota_0,    app,  ota_0,   ,        1M,",
				"ota_1,    app,  ota_1,   ,        1048576, readonly",
				"custom,   0x40, 0x01,    ,        4096",
			].join("\n"),
		);
		const at = (name: string) => table.find(name);
		assert.equal(at("nvs")?.offset, 0x9000);
		assert.equal(at("nvs")?.size, 0x6000);
		assert.equal(at("otadata")?.offset, 0xf000);
		assert.equal(at("phy_init")?.offset, 0x11000);
		assert.equal(at("ota_0")?.offset, 0x20000);
		assert.equal(at("ota_0")?.size, 0x100000);
		assert.equal(at("ota_1")?.offset, 0x120000);
		assert.deepEqual(at("ota_1")?.flags, ["readonly"]);
		assert.equal(at("custom")?.type, 0x40);
		assert.equal(at("custom")?.offset, 0x220000);
	});

	it("refuses bad tables with the line and the problem", () => {
		const cases: [string, RegExp][] = [
			["", /no partitions/],
			["nvs,data,nvs,0x9000", /line 1: expected/],
			["nvs,data,nvs,0x9000,0x5000\nnvs,data,nvs,0xe000,0x1000", /line 2: duplicate partition name nvs/],
			["a,data,nvs,0x9000,0x5000\nb,data,phy,0xa000,0x1000", /line 2: b overlaps a/],
			["ota_0,app,ota_0,0x18000,0x10000", /not aligned to 0x10000/],
			["x,data,nvs,0x9100,0x1000", /not aligned to 0x1000/],
			["x,data,nvs,0x1000,0x1000", /overlaps the bootloader/],
			["x,dta,nvs,0x9000,0x1000", /unknown type "dta"/],
			["x,data,nvx,0x9000,0x1000", /unknown subtype "nvx"/],
			["x,app,ota_16,0x10000,0x10000", /unknown subtype/],
			["x,data,nvs,0x9000,12Q", /size "12Q" is not a number/],
			["x,data,nvs,0x9000,0", /size must be positive/],
			["ota_0,app,ota_0,0x10000,0x10800", /not a multiple of 4 KiB/],
			["a-very-long-partition-name,data,nvs,0x9000,0x1000", /1 to 16 characters/],
		];
		for (const [csv, message] of cases)
			assert.throws(
				() => parsePartitionTable(csv),
				(e: unknown) => e instanceof PartitionTableError && message.test(e.message),
				csv,
			);
		assert.throws(
			() => parsePartitionTable("ota_0,app,ota_0,0x10000,0x400000", DEFAULT_FLASH_SIZE),
			/past the flash size/,
		);
	});
});
