/*
 * idf/image-verifier.ts ImageVerifier: esp_image_verify's checks over every fixture, streamed in many chunk
 * shapes, and over corrupt variants derived from them.
 */
import assert from "node:assert/strict";
import {ImageVerifier, verifyImage, type ImageVerdict} from "../../idf/image-verifier";
import {createDigest} from "../../host/adapters/digest";
import {fixtureCopy, fixtures, getU32, reseal, segmentsEnd, setU32, withByte} from "../support/image-fixtures";
import {requireSharedFixtures} from "../support/shared-fixtures";

/** Streams `image` in chunks of the given sizes (cycled), each chunk copied to an odd byte offset so the word path meets unaligned views. */
function streamed(
	image: Uint8Array,
	sizes: readonly number[],
	options?: {chipId?: number; capacity?: number},
): ImageVerdict {
	const verifier = new ImageVerifier(createDigest, options);
	let at = 0;
	for (let k = 0; at < image.length; k++) {
		const size = sizes[k % sizes.length];
		const chunk = image.subarray(at, at + size);
		const shifted = new Uint8Array(chunk.length + 1);
		shifted.set(chunk, 1);
		verifier.write(shifted.subarray(1));
		at += chunk.length;
	}
	return verifier.end();
}

const base = "synthetic/app-1.0.0.bin";

function assertInvalid(verdict: ImageVerdict, reason: RegExp): void {
	assert.equal(verdict.valid, false);
	assert.match(verdict.reason ?? "", reason);
}

describe("image verification (ImageVerifier)", () => {
	for (const facts of fixtures) {
		it(`accepts ${facts.path} with its facts, whole and in odd chunks`, () => {
			const image = fixtureCopy(facts.path);
			const shapes: number[][] = [[image.length], [4096], [1, 3, 7, 288, 1000, 4093], [65536, 5]];
			for (const shape of shapes) {
				const verdict = streamed(image, shape);
				assert.equal(verdict.valid, true, `${shape}: ${verdict.reason}`);
				assert.equal(verdict.reason, undefined);
				assert.equal(verdict.length, facts.size);
				assert.equal(verdict.expectedLength, facts.size);
				assert.equal(verdict.trailing, 0);
				assert.equal(verdict.checksumValid, facts.checksum_valid);
				assert.equal(verdict.hashValid, facts.validation_hash_valid);
				assert.equal(verdict.sha256, facts.validation_hash);
				assert.equal(verdict.info?.version, facts.version);
				assert.equal(verdict.info?.chipId, facts.chip_id);
			}
		});
	}

	it("accepts a fixture streamed one byte at a time", () => {
		const image = fixtureCopy(base);
		assert.equal(streamed(image, [1]).valid, true);
	});

	it("refuses a changed appended hash (checksum still valid)", () => {
		const image = fixtureCopy(base);
		for (const offset of [image.length - 32, image.length - 17, image.length - 1]) {
			const verdict = verifyImage(withByte(image, offset, image[offset] ^ 0x01), createDigest);
			assertInvalid(verdict, /SHA-256 mismatch/);
			assert.equal(verdict.checksumValid, true);
			assert.equal(verdict.hashValid, false);
		}
	});

	it("refuses a changed header byte through the hash (the checksum covers segment data only)", () => {
		const image = fixtureCopy(base);
		const verdict = verifyImage(withByte(image, 3, image[3] ^ 0x10), createDigest);
		assertInvalid(verdict, /SHA-256 mismatch/);
		assert.equal(verdict.checksumValid, true);
	});

	it("refuses changed segment data through the checksum and the hash", () => {
		const image = fixtureCopy(base);
		for (const offset of [0x120, 0x400, segmentsEnd(image) - 1]) {
			const verdict = verifyImage(withByte(image, offset, image[offset] ^ 0x80), createDigest);
			assertInvalid(verdict, /checksum mismatch/);
			assert.equal(verdict.checksumValid, false);
			assert.equal(verdict.hashValid, false);
		}
	});

	it("refuses a changed checksum byte at size − 33", () => {
		const image = fixtureCopy(base);
		const at = image.length - 33;
		const verdict = verifyImage(withByte(image, at, image[at] ^ 0xff), createDigest);
		assertInvalid(verdict, /checksum mismatch/);
		assert.equal(verdict.checksumValid, false);
	});

	it("accepts altered content once checksum and hash are sealed again (it checks what ESP-IDF checks, no more)", () => {
		const image = fixtureCopy(base);
		image[0x400] ^= 0x55;
		assert.equal(verifyImage(image, createDigest).valid, false);
		const sealed = reseal(image);
		assert.equal(sealed.length, image.length);
		const verdict = verifyImage(sealed, createDigest);
		assert.equal(verdict.valid, true, verdict.reason);
	});

	it("refuses every truncation", () => {
		const image = fixtureCopy(base);
		const size = image.length;
		for (const length of [
			0,
			1,
			23,
			24,
			31,
			32,
			0x120,
			4096,
			segmentsEnd(image),
			size - 33,
			size - 32,
			size - 31,
			size - 1,
		]) {
			const verdict = streamed(image.subarray(0, length), [4096]);
			assertInvalid(verdict, /truncated image/);
			assert.equal(verdict.length, length);
		}
	});

	it("refuses every truncation of the large image too", () => {
		const image = fixtureCopy("synthetic/app-2.0.0-large.bin");
		for (const length of [image.length >> 1, image.length - 4096, image.length - 1])
			assertInvalid(streamed(image.subarray(0, length), [16384]), /truncated image/);
	});

	it("refuses a wrong magic byte", () => {
		for (const value of [0x00, 0xe8, 0xff])
			assertInvalid(verifyImage(withByte(fixtureCopy(base), 0, value), createDigest), /invalid magic byte/);
	});

	it("refuses an image for another chip when the chip is given, even when sealed", () => {
		const image = fixtureCopy(base);
		const s3 = reseal(withByte(image, 12, 9));
		assert.equal(verifyImage(s3, createDigest).valid, true);
		assertInvalid(verifyImage(s3, createDigest, {chipId: 0}), /esp32s3.*esp32/);
		assert.equal(
			verifyImage(fixtureCopy("synthetic/app-2.0.0-esp32s3.bin"), createDigest, {chipId: 9}).valid,
			true,
		);
	});

	it("treats a broken app descriptor as ESP-IDF does: the hash fails; sealed, the image verifies without facts", () => {
		const image = withByte(fixtureCopy(base), 0x20, 0x00);
		assertInvalid(verifyImage(image, createDigest), /checksum mismatch/);
		const sealed = verifyImage(reseal(image), createDigest);
		assert.equal(sealed.valid, true);
		assert.equal(sealed.info, undefined);
	});

	it("refuses segment counts 0 and 17", () => {
		for (const count of [0, 17])
			assertInvalid(verifyImage(withByte(fixtureCopy(base), 1, count), createDigest), /invalid segment count/);
	});

	it("refuses a segment length of 16 MiB or more, or not a multiple of 4", () => {
		const huge = fixtureCopy(base);
		setU32(huge, 28, 0x1000000);
		assertInvalid(verifyImage(huge, createDigest), /16 MiB/);
		const odd = fixtureCopy(base);
		setU32(odd, 28, getU32(odd, 28) + 2);
		assertInvalid(verifyImage(odd, createDigest), /not a multiple of 4/);
		const later = fixtureCopy(base);
		const second = 24 + 8 + getU32(later, 28);
		setU32(later, second + 4, 0xfffffff0);
		assertInvalid(verifyImage(later, createDigest), /segment 1 .*16 MiB/);
	});

	it("refuses a flash-mapped segment whose file offset does not match its address modulo 64 KiB (checked for esp32 and esp32s3)", () => {
		for (const path of [base, "synthetic/app-2.0.0-esp32s3.bin"]) checkMmuPage(path);
	});

	describe("cross-check lane: real ESP-IDF images", () => {
		before(function () {
			requireSharedFixtures(this);
		});
		it("refuses a real image of another chip", () => {
			assertInvalid(verifyImage(fixtureCopy("real/esp32s3-hello_world.bin"), createDigest, {chipId: 0}), /chip/);
		});
		it("checks the MMU page congruence of an older ESP-IDF layout (IROM before the RAM segments)", () => {
			checkMmuPage("real/esp32-simple_ota.bin");
		});
	});

	function checkMmuPage(path: string): void {
		{
			const image = fixtureCopy(path);
			// The IROM segment: the one whose data sits at a 64 KiB-congruent offset other than the first.
			let at = 24;
			let irom = -1;
			for (let i = 0; i < image[1]; i++) {
				const load = getU32(image, at);
				if (i > 0 && load % 0x10000 === (at + 8) % 0x10000 && load >= 0x3c000000) irom = at;
				at += 8 + getU32(image, at + 4);
			}
			assert.ok(irom > 0, path);
			const moved = image.slice();
			setU32(moved, irom, getU32(image, irom) + 0x100);
			const sealed = reseal(moved);
			assertInvalid(verifyImage(sealed, createDigest), /MMU page/);
			// A chip without a mapping table is not checked.
			assert.equal(verifyImage(reseal(withByte(moved, 12, 13)), createDigest).valid, true, path);
		}
	}

	it("refuses an image longer than the partition", () => {
		const image = fixtureCopy(base);
		assertInvalid(verifyImage(image, createDigest, {capacity: image.length - 1}), /doesn't fit|past the partition/);
		assertInvalid(verifyImage(image, createDigest, {capacity: 0x10000}), /past the partition|doesn't fit/);
		assert.equal(verifyImage(image, createDigest, {capacity: image.length}).valid, true);
	});

	it("counts bytes after the image without refusing it (esp_ota_end reads the image from its headers)", () => {
		const image = fixtureCopy(base);
		const longer = new Uint8Array(image.length + 100).fill(0xa5);
		longer.set(image);
		const verdict = streamed(longer, [4000]);
		assert.equal(verdict.valid, true);
		assert.equal(verdict.trailing, 100);
		assert.equal(verdict.expectedLength, image.length);
		assert.equal(verdict.length, image.length + 100);
	});

	it("verifies an image without an appended hash by its checksum alone", () => {
		const image = fixtureCopy(base);
		image[23] = 0;
		const sealed = reseal(image);
		assert.equal(sealed.length, image.length - 32);
		const verdict = verifyImage(sealed, createDigest);
		assert.equal(verdict.valid, true, verdict.reason);
		assert.equal(verdict.hashValid, false);
		assert.equal(verdict.checksumValid, true);
		const bad = sealed.slice();
		bad[bad.length - 1] ^= 1;
		assertInvalid(verifyImage(bad, createDigest), /checksum mismatch/);
	});

	it("keeps its verdict once finished, whatever follows", () => {
		const verifier = new ImageVerifier(createDigest);
		verifier.write(withByte(fixtureCopy(base), 0, 0));
		assert.equal(verifier.finished, true);
		verifier.write(fixtureCopy(base));
		assertInvalid(verifier.end(), /invalid magic byte/);
	});
});
