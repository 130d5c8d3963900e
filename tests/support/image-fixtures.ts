/*
 * The facts of the image fixtures (fixtures.json) and ways to derive broken or re-sealed images
 * from them. The re-sealing here walks the segments on its own, independently of ota/image.ts, so
 * the tests do not check the verifier against itself.
 */
import {createHash} from "node:crypto";
import {readFileSync} from "node:fs";
import {fixtureBytes, fixtureImage} from "./cloud-fixtures";

export {fixtureBytes, fixtureImage};

export interface FixtureFacts {
	path: string;
	kind: "real" | "synthetic";
	chip: string;
	chip_id: number;
	project_name: string;
	version: string;
	secure_version: number;
	idf_ver: string;
	size: number;
	sha256: string;
	hash_appended: boolean;
	checksum_valid: boolean;
	validation_hash_valid: boolean;
	validation_hash: string;
	segment_count: number;
	entry_addr: string;
	min_chip_rev_full: number;
	max_chip_rev_full: number;
	app_elf_sha256: string;
	compile_date: string;
	compile_time: string;
}

export const fixtures: readonly FixtureFacts[] = (JSON.parse(readFileSync(fixtureImage("fixtures.json"), "utf8")) as {images: FixtureFacts[]}).images;

export function fixture(path: string): FixtureFacts {
	const found = fixtures.find((f) => f.path === path);
	if (!found)
		throw new Error("no fixture " + path);
	return found;
}

/** A copy of the fixture's bytes (safe to mutate). */
export function fixtureCopy(path: string): Uint8Array {
	return new Uint8Array(fixtureBytes(path));
}

/** A copy with `bytes[offset] = value`. */
export function withByte(image: Uint8Array, offset: number, value: number): Uint8Array {
	const copy = image.slice();
	copy[offset] = value;
	return copy;
}

export function setU32(image: Uint8Array, offset: number, value: number): void {
	new DataView(image.buffer, image.byteOffset).setUint32(offset, value >>> 0, true);
}

export function getU32(image: Uint8Array, offset: number): number {
	return new DataView(image.buffer, image.byteOffset).getUint32(offset, true);
}

/** End of the last segment's data (the unpadded image length). */
export function segmentsEnd(image: Uint8Array): number {
	let at = 24;
	for (let i = 0; i < image[1]; i++)
		at += 8 + getU32(image, at + 4);
	return at;
}

/**
 * Recomputes the checksum byte and, when hash_appended is 1, the appended SHA-256 of an image whose
 * headers and data were changed, returning a correctly sealed image of the right length.
 */
export function reseal(image: Uint8Array): Uint8Array {
	const end = segmentsEnd(image);
	const padded = (end + 1 + 15) & ~15;
	const hashed = image[23] === 1;
	const out = new Uint8Array(padded + (hashed ? 32 : 0));
	out.set(image.subarray(0, Math.min(image.length, padded)));
	let checksum = 0xef;
	let at = 24;
	for (let i = 0; i < out[1]; i++) {
		const length = getU32(out, at + 4);
		for (let k = at + 8; k < at + 8 + length; k++)
			checksum ^= out[k];
		at += 8 + length;
	}
	out.fill(0, end, padded - 1);
	out[padded - 1] = checksum;
	if (hashed)
		out.set(createHash("sha256").update(out.subarray(0, padded)).digest(), padded);
	return out;
}
