/*
 * ESP32 application images (ESP-IDF's esp_image_header_t and esp_app_desc_t; docs/protocol.md §7):
 * the header facts the node checks before it writes anything (docs/protocol.md §5.12).
 *
 * Platform neutral and device safe: no Node, no TextDecoder. The full verification that
 * esp_ota_end runs on the device lives with the ESP-IDF stand-ins (idf/image-verifier.ts).
 */
import {StatusText} from "./status";

/** sizeof(esp_image_header_t). */
export const IMAGE_HEADER_LENGTH = 24;
/** File offset of esp_app_desc_t: image header + first segment header. */
export const APP_DESC_OFFSET = 32;
/** What parseImageHeader needs: everything up to the end of esp_app_desc_t. */
export const APP_DESC_END = 288;
/**
 * The firmware identity (docs/protocol.md §7.5): ESP-IDF's custom app description, the
 * `.rodata_custom_desc` section that the app linker script places right after esp_app_desc_t, so
 * at file offset 24 + 8 + 256 = 288. This project's build puts a magic and the firmware's name there
 * (native/app_identity_esp32.c); other ESP-IDF and Moddable apps have unrelated read-only data there.
 */
export const IDENTITY_OFFSET = APP_DESC_END;
export const IDENTITY_MAGIC = 0x49584d52; // "RMXI" in flash byte order
export const IDENTITY_NAME_LENGTH = 32;
/** magic (4) + name (32, NUL-padded) + reserved (4, zero). */
export const IDENTITY_LENGTH = 40;
export const IDENTITY_END = IDENTITY_OFFSET + IDENTITY_LENGTH;
/** What the node reads before deciding (the reference reads 289 for esp_app_desc_t alone): header, descriptor and identity. */
export const HEADER_PROBE_LENGTH = IDENTITY_END;

export const IMAGE_MAGIC = 0xe9;
export const APP_DESC_MAGIC = 0xabcd5432;
export const MAX_SEGMENTS = 16;

/** esp_chip_id_t values (docs/protocol.md §7.4). */
export const CHIP_IDS: {readonly [chip: string]: number} = Object.freeze({
	esp32: 0,
	esp32s2: 2,
	esp32c3: 5,
	esp32s3: 9,
	esp32c2: 12,
	esp32c6: 13,
	esp32h2: 16,
	esp32p4: 18,
	esp32c5: 23,
});

/** The chip's name ("esp32s3"), or "unknown (0x00NN)" for an id this table lacks. */
export function chipName(id: number): string {
	for (const name in CHIP_IDS) {
		if (CHIP_IDS[name] === id) return name;
	}
	return "unknown (0x" + hex(id, 4) + ")";
}

export type SpiMode = "QIO" | "QOUT" | "DIO" | "DOUT" | "FAST_READ" | "SLOW_READ" | "unknown";
const spiModes: readonly SpiMode[] = Object.freeze(["QIO", "QOUT", "DIO", "DOUT", "FAST_READ", "SLOW_READ"]);

export interface AppImageInfo {
	chipId: number;
	segmentCount: number;
	spiMode: SpiMode;
	entryAddr: number;
	/** major × 100 + minor; 0 in images older than the field. */
	minChipRevFull: number;
	/** 0 or 0xFFFF mean "not set" to ESP-IDF. */
	maxChipRevFull: number;
	hashAppended: boolean;
	secureVersion: number;
	version: string;
	projectName: string;
	time: string;
	date: string;
	idfVer: string;
	/** Lower-case hex of the 32-byte field. */
	appElfSha256: string;
	/**
	 * The firmware identity's name at offset 288 (docs/protocol.md §7.5); undefined when the image has
	 * none there, or when fewer than IDENTITY_END bytes were given.
	 */
	identity: string | undefined;
}

export type ImageErrorCode = "truncated" | "magic" | "segments" | "app-desc-magic";

export class ImageError extends Error {
	readonly code: ImageErrorCode;
	constructor(code: ImageErrorCode, message: string) {
		super(message);
		this.name = "ImageError";
		this.code = code;
	}
}

/**
 * Reads the image header, the app descriptor and, from IDENTITY_END = 328 bytes on, the firmware
 * identity from the first bytes of an image (at least APP_DESC_END = 288; more are ignored).
 * Throws ImageError when they are not an application image.
 */
export function parseImageHeader(bytes: Uint8Array): AppImageInfo {
	if (bytes.length > 0 && bytes[0] !== IMAGE_MAGIC)
		throw new ImageError(
			"magic",
			"Not an ESP32 application image: magic byte 0x" + hex(bytes[0], 2) + " (expected 0xE9)",
		);
	if (bytes.length < APP_DESC_END)
		throw new ImageError(
			"truncated",
			"Image too short: " + bytes.length + " bytes, the header and app descriptor need " + APP_DESC_END,
		);
	const view = new DataView(bytes.buffer, bytes.byteOffset, APP_DESC_END);
	const segmentCount = bytes[1];
	if (segmentCount === 0 || segmentCount > MAX_SEGMENTS)
		throw new ImageError("segments", "Invalid segment count " + segmentCount + " (1.." + MAX_SEGMENTS + ")");
	const descMagic = view.getUint32(APP_DESC_OFFSET, true);
	if (descMagic !== APP_DESC_MAGIC)
		throw new ImageError(
			"app-desc-magic",
			"No app descriptor: magic 0x" + hex(descMagic, 8) + " at offset 0x20 (expected 0xABCD5432)",
		);
	const d = APP_DESC_OFFSET;
	return {
		chipId: view.getUint16(12, true),
		segmentCount,
		spiMode: spiModes[bytes[2]] ?? "unknown",
		entryAddr: view.getUint32(4, true),
		minChipRevFull: view.getUint16(15, true),
		maxChipRevFull: view.getUint16(17, true),
		hashAppended: bytes[23] === 1,
		secureVersion: view.getUint32(d + 4, true),
		version: fieldString(bytes, d + 16, 32),
		projectName: fieldString(bytes, d + 48, 32),
		time: fieldString(bytes, d + 80, 16),
		date: fieldString(bytes, d + 96, 16),
		idfVer: fieldString(bytes, d + 112, 32),
		appElfSha256: toHex(bytes.subarray(d + 144, d + 176)),
		identity: parseIdentity(bytes),
	};
}

/** The name in the identity block at offset 288, or undefined when there is none (docs/protocol.md §7.5). */
export function parseIdentity(bytes: Uint8Array): string | undefined {
	if (bytes.length < IDENTITY_END) return undefined;
	const view = new DataView(bytes.buffer, bytes.byteOffset + IDENTITY_OFFSET, IDENTITY_LENGTH);
	if (view.getUint32(0, true) !== IDENTITY_MAGIC) return undefined;
	const name = fieldString(bytes, IDENTITY_OFFSET + 4, IDENTITY_NAME_LENGTH);
	return name === "" ? undefined : name;
}

/** Chip revision major × 100 + minor as ESP-IDF writes it ("v3.1"). */
export function chipRevisionText(revisionFull: number): string {
	return "v" + Math.floor(revisionFull / 100) + "." + (revisionFull % 100);
}

export interface UpgradeChecks {
	/** CONFIG_ESP_RMAKER_SKIP_PROJECT_NAME_CHECK */
	skipProjectCheck?: boolean;
	/** CONFIG_ESP_RMAKER_SKIP_VERSION_CHECK */
	skipVersionCheck?: boolean;
	/** CONFIG_ESP_RMAKER_SKIP_SECURE_VERSION_CHECK */
	skipSecureVersionCheck?: boolean;
}

/** What the node knows besides the running image when it judges a candidate. */
export interface NodeFacts {
	/** The chip's revision, major × 100 + minor (efuse_hal_chip_revision; eFuse `chipRevision` on a simulated device). */
	chipRevision: number;
	/** The `fw_version` of the job the user approved, when the job names one: the image must be exactly that. */
	approvedVersion?: string;
}

/**
 * The node's verdict on a candidate image against the running one (docs/protocol.md §5.12):
 * undefined when it may be installed, else the `rejected` text. The order is the reference's:
 * project (with this project's firmware identity, docs/protocol.md §7.5), version, secure version
 * (validate_image_header on the app descriptor), then chip id and chip revision
 * (esp_https_ota_perform's checks of the image header, after the descriptor was validated); the
 * approved version comes right after the reference's version check. So a foreign project built
 * for another chip gets "Project Name mismatch", as from the reference. The strings hold the bytes
 * up to the first NUL, so comparing them equals the 32-byte memcmp for the NUL-padded fields
 * ESP-IDF writes.
 */
export function checkUpgrade(
	candidate: AppImageInfo,
	running: AppImageInfo,
	minSecureVersion: number,
	node: NodeFacts,
	checks: UpgradeChecks = {},
): string | undefined {
	if (!checks.skipProjectCheck) {
		if (candidate.projectName !== running.projectName) return StatusText.projectMismatch;
		const own = running.identity;
		if (own !== undefined && candidate.identity !== own) {
			return candidate.identity === undefined
				? `${StatusText.projectMismatch}: ${candidate.projectName} ${candidate.version} is another app (no ${own} identity at offset 288)`
				: `${StatusText.projectMismatch}: the image is firmware ${candidate.identity}, this node runs ${own}`;
		}
	}
	if (!checks.skipVersionCheck && candidate.version === running.version) return StatusText.sameVersion;
	if (node.approvedVersion !== undefined && candidate.version !== node.approvedVersion)
		return `Version mismatch: the image is ${candidate.version}, the approved job is ${node.approvedVersion}`;
	if (!checks.skipSecureVersionCheck && candidate.secureVersion < minSecureVersion)
		return StatusText.lowerSecureVersion;
	if (candidate.chipId !== running.chipId)
		return `${StatusText.chipMismatch} (the image is for ${chipName(candidate.chipId)}, this chip is ${chipName(running.chipId)})`;
	const revision = node.chipRevision;
	if (revision < candidate.minChipRevFull)
		return `${StatusText.chipMismatch} (the image needs ${chipRevisionText(candidate.minChipRevFull)} or later, this chip is ${chipRevisionText(revision)})`;
	const max = candidate.maxChipRevFull;
	if (max !== 0 && max !== 0xffff && revision > max)
		return `${StatusText.chipMismatch} (the image supports up to ${chipRevisionText(max)}, this chip is ${chipRevisionText(revision)})`;
	return undefined;
}

/** The string in a NUL-padded field: the bytes before the first NUL, as UTF-8. */
function fieldString(bytes: Uint8Array, offset: number, size: number): string {
	let end = offset;
	const limit = offset + size;
	while (end < limit && bytes[end] !== 0) end++;
	return decodeUtf8(bytes, offset, end);
}

/** A small UTF-8 decoder for the descriptor's short fields (XS has no global TextDecoder); malformed sequences become U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, from: number, to: number): string {
	let out = "";
	let i = from;
	while (i < to) {
		const b = bytes[i++];
		if (b < 0x80) {
			out += String.fromCharCode(b);
			continue;
		}
		const extra = b >= 0xf0 && b < 0xf5 ? 3 : b >= 0xe0 ? (b < 0xf0 ? 2 : -1) : b >= 0xc2 ? 1 : -1;
		if (extra < 0 || i + extra > to) {
			out += "\ufffd";
			continue;
		}
		let code = b & (0x3f >> extra);
		let ok = true;
		for (let k = 0; k < extra; k++) {
			const c = bytes[i + k];
			if ((c & 0xc0) !== 0x80) {
				ok = false;
				break;
			}
			code = (code << 6) | (c & 0x3f);
		}
		const min = extra === 1 ? 0x80 : extra === 2 ? 0x800 : 0x10000;
		if (!ok || code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
			out += "\ufffd";
			continue;
		}
		i += extra;
		out += String.fromCodePoint(code);
	}
	return out;
}

/** Lower-case hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
	let out = "";
	for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
	return out;
}

/** Upper-case hex of `value`, at least `digits` digits. */
export function hex(value: number, digits: number): string {
	let s = (value >>> 0).toString(16).toUpperCase();
	while (s.length < digits) s = "0" + s;
	return s;
}
