/*
 * Builds small, valid ESP32 application images (esp_image_header_t, one DROM segment that starts
 * with esp_app_desc_t, checksum byte, appended SHA-256), for the demo and for tests that need an
 * image with a given version or project. They pass every check of ESP-IDF's esp_image_verify; they
 * are not runnable programs (like the synthetic fixtures).
 */
import {createHash} from "node:crypto";
import {APP_DESC_MAGIC, CHIP_IDS, IMAGE_MAGIC} from "../../ota/image";

export interface AppImageSpec {
	version: string;
	projectName?: string;
	chipId?: number;
	secureVersion?: number;
	/** Bytes of payload after the app descriptor (rounded up to a multiple of 4). Default 16 KiB. */
	payloadSize?: number;
}

export const DEFAULT_PROJECT = "rainmaker-ota-xs";
const DROM_ADDRESS = 0x3f400020;

function putString(target: Uint8Array, offset: number, length: number, text: string): void {
	const bytes = new TextEncoder().encode(text);
	if (bytes.length >= length)
		throw new RangeError(`"${text}" does not fit ${length - 1} bytes`);
	target.set(bytes, offset);
}

export function buildAppImage(spec: AppImageSpec): Uint8Array {
	const payloadSize = Math.ceil((spec.payloadSize ?? 16 * 1024) / 4) * 4;
	const segmentLength = 256 + payloadSize;
	const unpadded = 24 + 8 + segmentLength;
	const padded = (unpadded + 1 + 15) & ~15;
	const image = new Uint8Array(padded + 32);
	const view = new DataView(image.buffer);
	image[0] = IMAGE_MAGIC;
	image[1] = 1;	// segment count
	image[2] = 2;	// DIO
	image[3] = 0x20;	// 40 MHz, 4 MB
	view.setUint32(4, DROM_ADDRESS + 0x400, true);	// entry (not executed)
	image[8] = 0xee;	// wp pin disabled
	view.setUint16(12, spec.chipId ?? CHIP_IDS.esp32, true);
	view.setUint16(17, 399, true);	// max_chip_rev_full
	image[23] = 1;	// hash appended
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
	for (let i = 0; i < payloadSize; i++)
		image[desc + 256 + i] = seed[i % 32] ^ (i & 0xff);
	let checksum = 0xef;
	for (let i = 32; i < 32 + segmentLength; i++)
		checksum ^= image[i];
	image[padded - 1] = checksum;
	image.set(createHash("sha256").update(image.subarray(0, padded)).digest(), padded);
	return image;
}
