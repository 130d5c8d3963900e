/*
 * Full verification of an ESP32 application image as it streams by: the checks ESP-IDF's
 * esp_image_verify runs inside esp_ota_end and in the bootloader (segments, checksum, appended
 * SHA-256, fits the partition, right chip; docs/protocol.md §7.2). On the device ESP-IDF does this
 * itself, so it lives with the ESP-IDF stand-ins (idf/), not in ota/: the update partition (the
 * esp_ota_end stand-in), the simulated bootloader, the lin build's flash and the `image` command use
 * it. No Node imports (bounded memory, plain TypeScript), so it runs in XS on the lin build too.
 */
import {
	type AppImageInfo,
	APP_DESC_END,
	chipName,
	hex,
	IMAGE_HEADER_LENGTH,
	IMAGE_MAGIC,
	MAX_SEGMENTS,
	parseImageHeader,
	toHex,
} from "../ota/image";
import type {Digest, DigestFactory} from "../ota/ports";

const SEGMENT_HEADER_LENGTH = 8;
const MAX_SEGMENT_LENGTH = 0x1000000;
const CHECKSUM_SEED = 0xef;
const HASH_LENGTH = 32;

export interface ImageVerdict {
	/** What esp_image_verify would answer for these bytes (trailing bytes do not count, see ImageVerifier). */
	valid: boolean;
	/** Why it is invalid; undefined when valid. */
	reason?: string;
	/** Bytes written. */
	length: number;
	/** The image's length from its headers (padded + appended hash); 0 when the headers were unreadable. */
	expectedLength: number;
	/** Bytes after expectedLength. */
	trailing: number;
	checksumValid: boolean;
	/** The appended SHA-256 matches; false when none is appended. */
	hashValid: boolean;
	/** The header facts, when the first 288 bytes hold an app descriptor. */
	info?: AppImageInfo;
	/** SHA-256 (hex) of [0, padded), present when the verifier reached the end of the image. */
	sha256?: string;
}

export interface VerifierOptions {
	/** The chip id the image must be built for (ESP-IDF's bootloader_common_check_chip_validity). */
	chipId?: number;
	/** The partition's size: a longer image is invalid ("doesn't fit in partition"). */
	capacity?: number;
}

/** Flash-mapped address ranges (IROM, DROM) per chip id, as esptool's IROM_MAP_* / DROM_MAP_* give them; 64 KiB MMU pages. */
const MMU_PAGE_SIZE = 0x10000;
/** Per chip: low, high, low, high, ... (flat and frozen: preloaded constants stay in flash on the device). */
const MAPPED_RANGES: {readonly [chipId: number]: readonly number[]} = Object.freeze({
	0: Object.freeze([0x400d0000, 0x40400000, 0x3f400000, 0x3f800000]),
	9: Object.freeze([0x42000000, 0x44000000, 0x3c000000, 0x3e000000]),
});

/**
 * Whether a segment's load address is flash-mapped on the image's chip. Chips without a table entry
 * are not checked (the MMU alignment check below is then skipped).
 */
function flashMapped(chipId: number, loadAddr: number): boolean {
	const ranges = MAPPED_RANGES[chipId];
	if (ranges === undefined) return false;
	for (let i = 0; i < ranges.length; i += 2) {
		if (loadAddr >= ranges[i] && loadAddr < ranges[i + 1]) return true;
	}
	return false;
}

// Plain numbers rather than an enum: a TypeScript enum compiles to a mutable object, which a
// preloaded module would have to copy into RAM on the device.
const Stage = Object.freeze({
	Header: 0,
	SegmentHeader: 1,
	SegmentData: 2,
	Padding: 3,
	Checksum: 4,
	Hash: 5,
	Trailing: 6,
	Failed: 7,
} as const);
type Stage = (typeof Stage)[keyof typeof Stage];

/**
 * Verifies an application image as it streams by, with bounded memory (it keeps the first 288
 * bytes, one segment header and the appended hash, never the image): segment count and lengths
 * (data_len % 4 == 0, < 16 MiB), flash-mapped segments at offsets matching their addresses modulo
 * the 64 KiB MMU page (esp32 and esp32s3; other chips unchecked), the checksum byte (XOR of the
 * segment data from 0xEF, at the end of the 16-byte padded block), the appended SHA-256 of
 * [0, padded) when hash_appended, and a complete image. The chip is checked when the options name one
 * (bootloader_common_check_chip_validity); the chip revision range is not (the host has no
 * revision). Bytes after the image make no difference to `valid`, as for esp_ota_end, which verifies
 * the image in the partition from its headers and never sees what follows; the verdict counts them
 * in `trailing` so a tool can report them.
 */
export class ImageVerifier {
	readonly #digest: Digest;
	readonly #options: VerifierOptions;
	#stage: Stage = Stage.Header;
	#reason: string | undefined;
	/** Absolute offset of the next byte. */
	#position = 0;
	readonly #probe = new Uint8Array(APP_DESC_END);
	#probeLength = 0;
	readonly #segmentHeader = new Uint8Array(SEGMENT_HEADER_LENGTH);
	#segmentHeaderLength = 0;
	#segmentCount = 0;
	#chipId = 0;
	#segmentIndex = 0;
	/** End offset of the current segment's data. */
	#segmentEnd = 0;
	#hashAppended = false;
	/** Offset of the checksum byte (padded − 1). */
	#checksumOffset = 0;
	#expectedLength = 0;
	#xorWords = 0;
	#xorBytes = CHECKSUM_SEED;
	#storedChecksum = -1;
	readonly #storedHash = new Uint8Array(HASH_LENGTH);
	#storedHashLength = 0;
	#computedHash: Uint8Array | undefined;

	constructor(createDigest: DigestFactory, options: VerifierOptions = {}) {
		this.#digest = createDigest("SHA256");
		this.#options = options;
	}

	write(chunk: Uint8Array): void {
		let i = 0;
		const n = chunk.length;
		while (i < n && this.#stage !== Stage.Failed) {
			switch (this.#stage) {
				case Stage.Header:
					i = this.#takeProbe(chunk, i, IMAGE_HEADER_LENGTH);
					if (this.#probeLength === IMAGE_HEADER_LENGTH) this.#checkHeader();
					break;
				case Stage.SegmentHeader: {
					const take = Math.min(n - i, SEGMENT_HEADER_LENGTH - this.#segmentHeaderLength);
					this.#segmentHeader.set(chunk.subarray(i, i + take), this.#segmentHeaderLength);
					this.#segmentHeaderLength += take;
					i = this.#consumeHashed(chunk, i, take);
					if (this.#segmentHeaderLength === SEGMENT_HEADER_LENGTH) this.#checkSegmentHeader();
					break;
				}
				case Stage.SegmentData: {
					const take = Math.min(n - i, this.#segmentEnd - this.#position);
					this.#xor(chunk, i, i + take);
					i = this.#consumeHashed(chunk, i, take);
					if (this.#position === this.#segmentEnd) this.#nextSegment();
					break;
				}
				case Stage.Padding: {
					const take = Math.min(n - i, this.#checksumOffset - this.#position);
					i = this.#consumeHashed(chunk, i, take);
					if (this.#position === this.#checksumOffset) this.#stage = Stage.Checksum;
					break;
				}
				case Stage.Checksum:
					this.#storedChecksum = chunk[i];
					i = this.#consumeHashed(chunk, i, 1);
					this.#computedHash = this.#digest.close();
					this.#stage = this.#hashAppended ? Stage.Hash : Stage.Trailing;
					break;
				case Stage.Hash: {
					const take = Math.min(n - i, HASH_LENGTH - this.#storedHashLength);
					this.#storedHash.set(chunk.subarray(i, i + take), this.#storedHashLength);
					this.#storedHashLength += take;
					this.#position += take;
					i += take;
					if (this.#storedHashLength === HASH_LENGTH) this.#stage = Stage.Trailing;
					break;
				}
				case Stage.Trailing:
					this.#position += n - i;
					i = n;
					break;
			}
		}
		if (this.#stage === Stage.Failed) this.#position += n - i;
	}

	/** True once the image's last byte (or an error) has been seen: more bytes cannot change the verdict. */
	get finished(): boolean {
		return this.#stage === Stage.Trailing || this.#stage === Stage.Failed;
	}

	end(): ImageVerdict {
		const length = this.#position;
		let info: AppImageInfo | undefined;
		if (this.#probeLength === APP_DESC_END) {
			try {
				info = parseImageHeader(this.#probe);
			} catch {
				info = undefined;
			}
		}
		const complete = this.#stage === Stage.Trailing;
		const checksum =
			(this.#xorBytes ^
				this.#xorWords ^
				(this.#xorWords >>> 8) ^
				(this.#xorWords >>> 16) ^
				(this.#xorWords >>> 24)) &
			0xff;
		const checksumValid = this.#storedChecksum >= 0 && checksum === this.#storedChecksum;
		const hashValid =
			complete &&
			this.#hashAppended &&
			this.#computedHash !== undefined &&
			equalBytes(this.#computedHash, this.#storedHash);
		let reason = this.#reason;
		if (reason === undefined && !complete) {
			reason =
				"truncated image: " +
				length +
				" bytes, " +
				(this.#expectedLength > 0
					? "the image has " + this.#expectedLength
					: this.#stage === Stage.Header
						? "the image header has " + IMAGE_HEADER_LENGTH
						: "it ends inside segment " + this.#segmentIndex + " of " + this.#segmentCount);
		}
		if (reason === undefined && !checksumValid)
			reason = "checksum mismatch: stored 0x" + hex(this.#storedChecksum, 2) + ", computed 0x" + hex(checksum, 2);
		if (reason === undefined && this.#hashAppended && !hashValid)
			reason =
				"SHA-256 mismatch: appended " +
				toHex(this.#storedHash) +
				", computed " +
				toHex(this.#computedHash ?? new Uint8Array(0));
		const verdict: ImageVerdict = {
			valid: reason === undefined,
			length,
			expectedLength: this.#expectedLength,
			trailing: complete ? length - this.#expectedLength : 0,
			checksumValid,
			hashValid,
		};
		if (reason !== undefined) verdict.reason = reason;
		if (info) verdict.info = info;
		if (this.#computedHash) verdict.sha256 = toHex(this.#computedHash);
		return verdict;
	}

	/** Copies header bytes into the probe (up to `limit`), hashing them; returns the new index. */
	#takeProbe(chunk: Uint8Array, i: number, limit: number): number {
		const take = Math.min(chunk.length - i, limit - this.#probeLength);
		this.#probe.set(chunk.subarray(i, i + take), this.#probeLength);
		this.#probeLength += take;
		return this.#consumeHashed(chunk, i, take);
	}

	/** Feeds `take` bytes from `i` to the digest and advances; returns the new index. */
	#consumeHashed(chunk: Uint8Array, i: number, take: number): number {
		if (take > 0) {
			// The first 288 bytes are kept for the app descriptor whatever stage they belong to.
			if (this.#position < APP_DESC_END && this.#stage !== Stage.Header) {
				const keep = Math.min(take, APP_DESC_END - this.#position);
				this.#probe.set(chunk.subarray(i, i + keep), this.#position);
				this.#probeLength = this.#position + keep;
			}
			this.#digest.write(chunk.subarray(i, i + take));
			this.#position += take;
		}
		return i + take;
	}

	#fail(reason: string): void {
		this.#reason = reason;
		this.#stage = Stage.Failed;
	}

	#checkHeader(): void {
		const header = this.#probe;
		if (header[0] !== IMAGE_MAGIC)
			return this.#fail("invalid magic byte 0x" + hex(header[0], 2) + " (expected 0xE9)");
		const chipId = header[12] | (header[13] << 8);
		if (this.#options.chipId !== undefined && chipId !== this.#options.chipId)
			return this.#fail(
				"image is for chip " + chipName(chipId) + ", this chip is " + chipName(this.#options.chipId),
			);
		this.#chipId = chipId;
		this.#segmentCount = header[1];
		if (this.#segmentCount === 0 || this.#segmentCount > MAX_SEGMENTS)
			return this.#fail("invalid segment count " + this.#segmentCount + " (1.." + MAX_SEGMENTS + ")");
		this.#hashAppended = header[23] === 1;
		this.#segmentIndex = 0;
		this.#segmentHeaderLength = 0;
		this.#stage = Stage.SegmentHeader;
	}

	#checkSegmentHeader(): void {
		const h = this.#segmentHeader;
		const loadAddr = (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0;
		const dataLength = (h[4] | (h[5] << 8) | (h[6] << 16) | (h[7] << 24)) >>> 0;
		const label = "segment " + this.#segmentIndex + " (load 0x" + hex(loadAddr, 8) + ")";
		if (dataLength % 4 !== 0)
			return this.#fail(label + ": length 0x" + hex(dataLength, 1) + " is not a multiple of 4");
		if (dataLength >= MAX_SEGMENT_LENGTH)
			return this.#fail(label + ": length 0x" + hex(dataLength, 1) + " is 16 MiB or more");
		// The flash cache maps 64 KiB pages: a mapped segment must sit at a file offset congruent to its address.
		if (flashMapped(this.#chipId, loadAddr) && this.#position % MMU_PAGE_SIZE !== loadAddr % MMU_PAGE_SIZE)
			return this.#fail(
				label +
					": data at offset 0x" +
					hex(this.#position, 1) +
					" does not match its address modulo the 64 KiB MMU page",
			);
		this.#segmentEnd = this.#position + dataLength;
		const capacity = this.#options.capacity;
		if (capacity !== undefined && this.#segmentEnd > capacity)
			return this.#fail(
				label +
					" ends at 0x" +
					hex(this.#segmentEnd, 1) +
					", past the partition's 0x" +
					hex(capacity, 1) +
					" bytes",
			);
		this.#stage = Stage.SegmentData;
		if (dataLength === 0) this.#nextSegment();
	}

	#nextSegment(): void {
		this.#segmentIndex++;
		if (this.#segmentIndex < this.#segmentCount) {
			this.#segmentHeaderLength = 0;
			this.#stage = Stage.SegmentHeader;
			return;
		}
		const padded = (this.#position + 1 + 15) & ~15;
		this.#checksumOffset = padded - 1;
		this.#expectedLength = padded + (this.#hashAppended ? HASH_LENGTH : 0);
		const capacity = this.#options.capacity;
		if (capacity !== undefined && this.#expectedLength > capacity)
			return this.#fail(
				"image length 0x" +
					hex(this.#expectedLength, 1) +
					" doesn't fit in the partition's 0x" +
					hex(capacity, 1) +
					" bytes",
			);
		this.#stage = this.#position === this.#checksumOffset ? Stage.Checksum : Stage.Padding;
	}

	/** XORs segment data bytes [from, to) of `chunk` into the checksum, a 32-bit word at a time where aligned. */
	#xor(chunk: Uint8Array, from: number, to: number): void {
		let i = from;
		let bytes = this.#xorBytes;
		while (i < to && ((chunk.byteOffset + i) & 3) !== 0) bytes ^= chunk[i++];
		const words = (to - i) >>> 2;
		if (words > 0) {
			const view = new Uint32Array(chunk.buffer, chunk.byteOffset + i, words);
			let acc = this.#xorWords;
			for (let w = 0; w < words; w++) acc ^= view[w];
			this.#xorWords = acc;
			i += words << 2;
		}
		while (i < to) bytes ^= chunk[i++];
		this.#xorBytes = bytes;
	}
}

/** Verifies a whole image held in memory (tests, the `image` command, the bootloader's flash reads). */
export function verifyImage(bytes: Uint8Array, createDigest: DigestFactory, options?: VerifierOptions): ImageVerdict {
	const verifier = new ImageVerifier(createDigest, options);
	verifier.write(bytes);
	return verifier.end();
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) {
		if (a[i] !== b[i]) return false;
	}
	return true;
}
