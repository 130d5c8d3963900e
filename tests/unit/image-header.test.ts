/*
 * ota/image.ts: the header facts of every fixture, the header refusals, the small UTF-8 decoder.
 */
import assert from "node:assert/strict";
import {
	APP_DESC_END,
	CHIP_IDS,
	HEADER_PROBE_LENGTH,
	ImageError,
	chipName,
	decodeUtf8,
	parseImageHeader,
} from "../../ota/image";
import {fixtureCopy, fixtures, setU32, withByte} from "../support/image-fixtures";

describe("image header (parseImageHeader)", () => {
	for (const facts of fixtures) {
		it(`reads the facts of ${facts.path} from its first ${HEADER_PROBE_LENGTH} bytes`, () => {
			const info = parseImageHeader(fixtureCopy(facts.path).subarray(0, HEADER_PROBE_LENGTH));
			assert.equal(info.chipId, facts.chip_id);
			assert.equal(chipName(info.chipId), facts.chip);
			assert.equal(info.projectName, facts.project_name);
			assert.equal(info.version, facts.version);
			assert.equal(info.secureVersion, facts.secure_version);
			assert.equal(info.idfVer, facts.idf_ver);
			assert.equal(info.segmentCount, facts.segment_count);
			assert.equal(info.entryAddr, Number(facts.entry_addr));
			assert.equal(info.minChipRevFull, facts.min_chip_rev_full);
			assert.equal(info.maxChipRevFull, facts.max_chip_rev_full);
			assert.equal(info.hashAppended, facts.hash_appended);
			assert.equal(info.appElfSha256, facts.app_elf_sha256);
			assert.equal(info.date, facts.compile_date);
			assert.equal(info.time, facts.compile_time);
		});
	}

	const base = "synthetic/app-1.0.0.bin";

	it("needs exactly the first 288 bytes", () => {
		const image = fixtureCopy(base);
		assert.equal(parseImageHeader(image.subarray(0, APP_DESC_END)).version, "1.0.0");
		for (const length of [0, 1, 23, 24, 32, APP_DESC_END - 1]) {
			assert.throws(
				() => parseImageHeader(image.subarray(0, length)),
				(e: unknown) => e instanceof ImageError && e.code === "truncated" && /too short/.test(e.message),
				`length ${length}`,
			);
		}
	});

	it("refuses a wrong magic byte, even in a short buffer", () => {
		for (const value of [0x00, 0xe8, 0xea, 0xff]) {
			assert.throws(
				() => parseImageHeader(withByte(fixtureCopy(base), 0, value)),
				(e: unknown) =>
					e instanceof ImageError &&
					e.code === "magic" &&
					e.message.includes("0x" + value.toString(16).toUpperCase().padStart(2, "0")),
			);
		}
		assert.throws(
			() => parseImageHeader(new Uint8Array([0x7f])),
			(e: unknown) => e instanceof ImageError && e.code === "magic",
		);
	});

	it("refuses a segment count of 0 or above 16", () => {
		for (const count of [0, 17, 255])
			assert.throws(
				() => parseImageHeader(withByte(fixtureCopy(base), 1, count)),
				(e: unknown) => e instanceof ImageError && e.code === "segments",
			);
		assert.equal(parseImageHeader(withByte(fixtureCopy(base), 1, 16)).segmentCount, 16);
	});

	it("refuses a missing app descriptor", () => {
		for (const offset of [0x20, 0x21, 0x23]) {
			assert.throws(
				() => parseImageHeader(withByte(fixtureCopy(base), offset, 0)),
				(e: unknown) =>
					e instanceof ImageError && e.code === "app-desc-magic" && /app descriptor/.test(e.message),
			);
		}
	});

	it("reads a field that fills its 32 bytes without a NUL, and stops the next one at its own NUL", () => {
		const image = fixtureCopy(base);
		image.fill(0x61, 0x30, 0x50); // version: 32 × "a", no terminator
		const info = parseImageHeader(image);
		assert.equal(info.version, "a".repeat(32));
		assert.equal(info.projectName, "rainmaker-ota-xs");
	});

	it("reads secure_version as an unsigned 32-bit value", () => {
		const image = fixtureCopy(base);
		setU32(image, 0x24, 0xfffffffe);
		assert.equal(parseImageHeader(image).secureVersion, 0xfffffffe);
	});

	it("names the chips of esp_chip_id_t", () => {
		assert.deepEqual(
			{...CHIP_IDS},
			{
				esp32: 0,
				esp32s2: 2,
				esp32c3: 5,
				esp32s3: 9,
				esp32c2: 12,
				esp32c6: 13,
				esp32h2: 16,
				esp32p4: 18,
				esp32c5: 23,
			},
		);
		for (const [name, id] of Object.entries(CHIP_IDS)) assert.equal(chipName(id), name);
		assert.equal(chipName(0x1234), "unknown (0x1234)");
	});

	describe("decodeUtf8", () => {
		const decode = (bytes: number[]) => decodeUtf8(new Uint8Array(bytes), 0, bytes.length);
		it("decodes ASCII and multi-byte sequences like TextDecoder", () => {
			for (const text of ["v1.2.3", "Grüße", "日本", "🙂 ok"]) {
				const bytes = [...new TextEncoder().encode(text)];
				assert.equal(decode(bytes), text);
			}
		});
		it("turns malformed bytes into U+FFFD like TextDecoder", () => {
			const cases = [
				[0x80],
				[0xc0, 0xaf],
				[0xe2, 0x82],
				[0xed, 0xa0, 0x80],
				[0xf5, 0x80, 0x80, 0x80],
				[0x61, 0xff, 0x62],
			];
			for (const bytes of cases)
				assert.equal(
					decode(bytes).replace(/\ufffd+/g, "\ufffd"),
					new TextDecoder().decode(new Uint8Array(bytes)).replace(/\ufffd+/g, "\ufffd"),
					JSON.stringify(bytes),
				);
		});
	});
});
