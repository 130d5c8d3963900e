/*
 * Builds small, valid ESP32 application images (esp_image_header_t, one DROM segment that starts
 * with esp_app_desc_t and the firmware identity, checksum byte, appended SHA-256), for the demo and
 * for tests that need an image with a given version or project. They pass every check of ESP-IDF's
 * esp_image_verify; they are not runnable programs (like the synthetic fixtures). Like the esp32
 * build (native/app_identity_esp32.c), they carry the firmware identity at offset 288
 * (docs/protocol.md §7.5) unless the spec says `identity: false`.
 */
import {createHash} from "node:crypto";
import {
	APP_DESC_MAGIC,
	CHIP_IDS,
	IDENTITY_LENGTH,
	IDENTITY_MAGIC,
	IDENTITY_NAME_LENGTH,
	IMAGE_MAGIC,
} from "../../ota/image";
import {FIRMWARE_NAME} from "./firmware-identity";

export interface AppImageSpec {
	version: string;
	projectName?: string;
	chipId?: number;
	secureVersion?: number;
	/** Bytes of payload after the app descriptor (rounded up to a multiple of 4, at least the identity's 40). Default 16 KiB. */
	payloadSize?: number;
	/** The firmware identity's name (default FIRMWARE_NAME, package.json's name); false: none, as in other apps' images. */
	identity?: string | false;
	/** Chip revision range of the header, major × 100 + minor (default 0 and 399, an ESP-IDF v5 esp32 build's). */
	minChipRevFull?: number;
	maxChipRevFull?: number;
}

export const DEFAULT_PROJECT = "rainmaker-ota-xs";
const DROM_ADDRESS = 0x3f400020;

function putString(target: Uint8Array, offset: number, length: number, text: string): void {
	const bytes = new TextEncoder().encode(text);
	if (bytes.length >= length) throw new RangeError(`"${text}" does not fit ${length - 1} bytes`);
	target.set(bytes, offset);
}

/** The 40-byte identity block (docs/protocol.md §7.5), as native/app_identity_esp32.c lays it out. */
export function identityBlock(name: string): Uint8Array {
	const block = new Uint8Array(IDENTITY_LENGTH);
	new DataView(block.buffer).setUint32(0, IDENTITY_MAGIC, true);
	putString(block, 4, IDENTITY_NAME_LENGTH, name);
	return block;
}

function identityOf(spec: {identity?: string | false}): Uint8Array | undefined {
	return spec.identity === false ? undefined : identityBlock(spec.identity ?? FIRMWARE_NAME);
}

export function buildAppImage(spec: AppImageSpec): Uint8Array {
	const identity = identityOf(spec);
	const payloadSize = Math.max(Math.ceil((spec.payloadSize ?? 16 * 1024) / 4) * 4, identity ? IDENTITY_LENGTH : 0);
	const segmentLength = 256 + payloadSize;
	const unpadded = 24 + 8 + segmentLength;
	const padded = (unpadded + 1 + 15) & ~15;
	const image = new Uint8Array(padded + 32);
	const view = new DataView(image.buffer);
	image[0] = IMAGE_MAGIC;
	image[1] = 1; // segment count
	image[2] = 2; // DIO
	image[3] = 0x20; // 40 MHz, 4 MB
	view.setUint32(4, DROM_ADDRESS + 0x400, true); // entry (not executed)
	image[8] = 0xee; // wp pin disabled
	view.setUint16(12, spec.chipId ?? CHIP_IDS.esp32, true);
	view.setUint16(15, spec.minChipRevFull ?? 0, true);
	view.setUint16(17, spec.maxChipRevFull ?? 399, true);
	image[23] = 1; // hash appended
	view.setUint32(24, DROM_ADDRESS, true);
	view.setUint32(28, segmentLength, true);
	const desc = 32;
	view.setUint32(desc, APP_DESC_MAGIC, true);
	view.setUint32(desc + 4, spec.secureVersion ?? 0, true);
	putString(image, desc + 16, 32, spec.version);
	putString(image, desc + 48, 32, spec.projectName ?? DEFAULT_PROJECT);
	putString(image, desc + 80, 16, "12:00:00");
	putString(image, desc + 96, 16, "Jan  1 2026");
	putString(image, desc + 112, 32, "v5.1.2");
	// A payload that differs per version, so two versions never share their bytes.
	const seed = createHash("sha256").update(spec.version).digest();
	for (let i = 0; i < payloadSize; i++) image[desc + 256 + i] = seed[i % 32] ^ (i & 0xff);
	if (identity) image.set(identity, desc + 256);
	let checksum = 0xef;
	for (let i = 32; i < 32 + segmentLength; i++) checksum ^= image[i];
	image[padded - 1] = checksum;
	image.set(createHash("sha256").update(image.subarray(0, padded)).digest(), padded);
	return image;
}

/*
 * The ESP-IDF layout: the five segments an ESP-IDF v5 build of an app gives (docs/protocol.md §7.2),
 * in the order esptool's elf2image writes them: DROM (esp_app_desc_t, then read-only data), DRAM,
 * IRAM (an endless loop at the entry point), a padding segment, and IROM at a file offset congruent
 * to its address modulo the 64 KiB MMU page. The project's test and bench fixtures are made this way
 * (tests/support/image-fixtures.ts); they are valid images, not runnable programs. Deterministic:
 * the same spec gives the same bytes on every run.
 */
export interface IdfImageSpec {
	version: string;
	projectName?: string;
	chip?: "esp32" | "esp32s3";
	secureVersion?: number;
	/** Bytes of read-only data after the descriptor. Default 4096. */
	rodataSize?: number;
	/** "pattern" (default): byte i = (i*7+3) & 0xff; "random": SHA-256(seed ‖ u32 counter) blocks. */
	rodataFill?: "pattern" | "random";
	/** Seed of the random fill (default: the version). */
	seed?: string;
	/**
	 * The firmware identity's name, written over the first 40 bytes of the read-only data (default
	 * FIRMWARE_NAME); false: none, as in a plain ESP-IDF image (the fixture set, FIXTURE_SPECS).
	 */
	identity?: string | false;
}

interface ChipLayout {
	chipId: number;
	drom: number;
	irom: number;
	iram: number;
	dram: number;
	/** Header byte 3: flash size (high nibble) and frequency (low nibble). */
	flashByte: number;
	maxChipRevFull: number;
}

const LAYOUTS: {readonly [chip: string]: ChipLayout} = {
	esp32: {
		chipId: 0,
		drom: 0x3f400020,
		irom: 0x400d0020,
		iram: 0x40080000,
		dram: 0x3ffb0000,
		flashByte: 0x20,
		maxChipRevFull: 399,
	},
	esp32s3: {
		chipId: 9,
		drom: 0x3c010020,
		irom: 0x42000020,
		iram: 0x40374000,
		dram: 0x3fc90000,
		flashByte: 0x2f,
		maxChipRevFull: 99,
	},
};

const MMU_PAGE = 0x10000;
const IRAM_LENGTH = 0x410;
const ENTRY_OFFSET = 0x400;

/** The facts of an image made by buildIdfImage, known from its spec (not read back from the bytes). */
export interface IdfImageFacts {
	chip: string;
	chipId: number;
	projectName: string;
	version: string;
	secureVersion: number;
	idfVer: string;
	segmentCount: number;
	entryAddr: number;
	minChipRevFull: number;
	maxChipRevFull: number;
	appElfSha256: string;
	compileDate: string;
	compileTime: string;
}

export const IDF_VER = "v5.1.2";
export const COMPILE_DATE = "Jan  1 2026";
export const COMPILE_TIME = "12:00:00";

export function idfImageFacts(spec: IdfImageSpec): IdfImageFacts {
	const chip = spec.chip ?? "esp32";
	const layout = LAYOUTS[chip];
	const projectName = spec.projectName ?? DEFAULT_PROJECT;
	const secureVersion = spec.secureVersion ?? 0;
	return {
		chip,
		chipId: layout.chipId,
		projectName,
		version: spec.version,
		secureVersion,
		idfVer: IDF_VER,
		segmentCount: 5,
		entryAddr: layout.iram + ENTRY_OFFSET,
		minChipRevFull: 0,
		maxChipRevFull: layout.maxChipRevFull,
		// No ELF exists; a stand-in digest that differs per image, where ESP-IDF puts the ELF's SHA-256.
		appElfSha256: createHash("sha256")
			.update(`${projectName} ${spec.version} ${chip} ${secureVersion}`)
			.digest("hex"),
		compileDate: COMPILE_DATE,
		compileTime: COMPILE_TIME,
	};
}

function rodata(spec: IdfImageSpec): Uint8Array {
	const size = spec.rodataSize ?? 4096;
	const data = new Uint8Array(size);
	if (spec.rodataFill === "random") {
		const seed = new TextEncoder().encode(spec.seed ?? spec.version);
		const block = new Uint8Array(seed.length + 4);
		block.set(seed);
		const view = new DataView(block.buffer);
		for (let counter = 0, at = 0; at < size; counter++, at += 32) {
			view.setUint32(seed.length, counter, false);
			data.set(
				createHash("sha256")
					.update(block)
					.digest()
					.subarray(0, Math.min(32, size - at)),
				at,
			);
		}
	} else {
		for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) & 0xff;
	}
	return data;
}

export function buildIdfImage(spec: IdfImageSpec): Uint8Array {
	const facts = idfImageFacts(spec);
	const layout = LAYOUTS[facts.chip];
	if (!layout) throw new RangeError(`no layout for chip ${facts.chip}`);
	const descriptor = new Uint8Array(256);
	const d = new DataView(descriptor.buffer);
	d.setUint32(0, APP_DESC_MAGIC, true);
	d.setUint32(4, facts.secureVersion, true);
	putString(descriptor, 16, 32, facts.version);
	putString(descriptor, 48, 32, facts.projectName);
	putString(descriptor, 80, 16, facts.compileTime);
	putString(descriptor, 96, 16, facts.compileDate);
	putString(descriptor, 112, 32, facts.idfVer);
	for (let i = 0; i < 32; i++) descriptor[144 + i] = parseInt(facts.appElfSha256.slice(2 * i, 2 * i + 2), 16);
	const ro = rodata(spec);
	const identity = identityOf(spec);
	if (identity) {
		if (ro.length < identity.length)
			throw new RangeError(`rodataSize ${ro.length} leaves no room for the ${identity.length}-byte identity`);
		ro.set(identity);
	}
	const drom = new Uint8Array(256 + ro.length);
	drom.set(descriptor);
	drom.set(ro, 256);
	const iram = new Uint8Array(IRAM_LENGTH);
	iram.set([0x06, 0xff, 0xff], ENTRY_OFFSET); // Xtensa `j .`
	const irom = new Uint8Array(4096);
	for (let i = 0; i < irom.length; i++) irom[i] = (i * 13 + 1) & 0xff;
	const segments: {load: number; data: Uint8Array}[] = [
		{load: layout.drom, data: drom},
		{
			load: layout.dram,
			data: Uint8Array.of(
				0x11,
				0x11,
				0x11,
				0x11,
				0x22,
				0x22,
				0x22,
				0x22,
				0x33,
				0x33,
				0x33,
				0x33,
				0x44,
				0x44,
				0x44,
				0x44,
			),
		},
		{load: layout.iram, data: iram},
	];
	let at = 24;
	for (const segment of segments) at += 8 + segment.data.length;
	// The padding segment ends where IROM's 8-byte header must start for its data to be page-congruent.
	let iromHeader = at - (at % MMU_PAGE) + (layout.irom % MMU_PAGE) - 8;
	while (iromHeader < at + 8) iromHeader += MMU_PAGE;
	segments.push({load: 0, data: new Uint8Array(iromHeader - at - 8)});
	segments.push({load: layout.irom, data: irom});
	const end = iromHeader + 8 + irom.length;
	const padded = (end + 1 + 15) & ~15;
	const image = new Uint8Array(padded + 32);
	const view = new DataView(image.buffer);
	image[0] = IMAGE_MAGIC;
	image[1] = segments.length;
	image[2] = 2; // DIO
	image[3] = layout.flashByte;
	view.setUint32(4, facts.entryAddr, true);
	image[8] = 0xee; // wp pin disabled
	view.setUint16(12, layout.chipId, true);
	view.setUint16(15, facts.minChipRevFull, true);
	view.setUint16(17, facts.maxChipRevFull, true);
	image[23] = 1; // hash appended
	let checksum = 0xef;
	at = 24;
	for (const segment of segments) {
		view.setUint32(at, segment.load, true);
		view.setUint32(at + 4, segment.data.length, true);
		image.set(segment.data, at + 8);
		at += 8 + segment.data.length;
		for (let i = 0; i < segment.data.length; i++) checksum ^= segment.data[i];
	}
	image[padded - 1] = checksum;
	image.set(createHash("sha256").update(image.subarray(0, padded)).digest(), padded);
	return image;
}

/**
 * The project's fixture set: name → spec (the same seven images as the esptool-built cross-check
 * set, which were made without the firmware identity: so these carry none either, and stand for
 * plain ESP-IDF images; docs/images-and-host-flash.md).
 */
export const FIXTURE_SPECS: {readonly [name: string]: IdfImageSpec} = {
	"app-1.0.0": {version: "1.0.0", identity: false},
	"app-1.1.0": {version: "1.1.0", identity: false},
	"app-2.0.0": {version: "2.0.0", identity: false},
	"app-2.0.0-large": {
		version: "2.0.0-large",
		rodataSize: 1490000,
		rodataFill: "random",
		seed: "app-2.0.0-large",
		identity: false,
	},
	"app-2.0.0-esp32s3": {version: "2.0.0", chip: "esp32s3", identity: false},
	"app-other-project": {version: "9.9.9", projectName: "some-other-app", identity: false},
	"app-3.0.0-secure2": {version: "3.0.0", secureVersion: 2, identity: false},
};

/**
 * A copy of a real ESP-IDF app image (a build's `<project>.bin`) whose esp_app_desc_t says `version`,
 * with the image checksum and the appended SHA-256 made valid again, so that ESP-IDF's bootloader
 * and esp_ota_end accept it. The QEMU demo (host/sim/qemu.ts) offers the very binary it booted as
 * 2.0.0 this way: one build, two versions. Throws on an image without the app descriptor at
 * APP_DESC_OFFSET or without an appended hash.
 */
export function restampAppVersion(source: Uint8Array, version: string): Uint8Array {
	const image = new Uint8Array(source);
	const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
	if (image.length < 64 || image[0] !== IMAGE_MAGIC || view.getUint32(32, true) !== APP_DESC_MAGIC)
		throw new RangeError("restampAppVersion: not an ESP-IDF app image with esp_app_desc_t at offset 32");
	if (image[23] !== 1)
		throw new RangeError("restampAppVersion: the image has no appended SHA-256 (hash_appended = 0)");
	let at = 24;
	let checksum = 0xef;
	for (let segment = 0; segment < image[1]; segment++) {
		const length = view.getUint32(at + 4, true);
		if (at + 8 + length > image.length)
			throw new RangeError(`restampAppVersion: segment ${segment} runs past the end of the image`);
		if (segment === 0) {
			image.fill(0, 48, 80);
			putString(image, 48, 32, version);
		}
		for (let i = at + 8; i < at + 8 + length; i++) checksum ^= image[i];
		at += 8 + length;
	}
	const padded = (at + 1 + 15) & ~15;
	if (padded + 32 > image.length)
		throw new RangeError("restampAppVersion: the image is shorter than its segments, checksum and hash");
	image[padded - 1] = checksum;
	image.set(createHash("sha256").update(image.subarray(0, padded)).digest(), padded);
	return image;
}
