/*
 * The image fixtures: the project's own synthetic ESP32 app images, made by its image tool
 * (host/tools/app-image.ts buildIdfImage) when a test first imports this module and cached in
 * .fixtures/images/synthetic/ (gitignored; rewritten whenever the tool's output changes), with
 * their facts; plus, when the cross-check folder is present, the esptool-built ("esptool/…") and real ESP-IDF
 * ("real/…") images of the cross-check lane (tests/support/shared-fixtures.ts). Also ways to derive
 * broken or re-sealed images. The re-sealing here walks the segments on its own, independently of
 * ota/image.ts, so the tests do not check the verifier against itself; the facts of a generated
 * image come from its spec, and its size and digests from node:crypto over the file.
 */
import {createHash} from "node:crypto";
import {mkdirSync, readFileSync, renameSync, writeFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {FIXTURE_SPECS, buildIdfImage, idfImageFacts} from "../../host/tools/app-image";
import {SKIP_REASON, sharedImageFacts, sharedImagePath, sharedFixturesPresent} from "./shared-fixtures";

/** Where the generated images are written (gitignored). */
export const GENERATED_IMAGES = fileURLToPath(new URL("../../.fixtures/images/", import.meta.url));

const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function readOrNothing(path: string): Buffer | undefined {
	try {
		return readFileSync(path);
	} catch {
		return undefined;
	}
}

/** Writes every fixture image the tool makes, unless the same bytes are already there. */
function generateFixtures(): FixtureFacts[] {
	mkdirSync(GENERATED_IMAGES + "synthetic", {recursive: true});
	const facts: FixtureFacts[] = [];
	for (const [name, spec] of Object.entries(FIXTURE_SPECS)) {
		const path = `synthetic/${name}.bin`;
		const image = buildIdfImage(spec);
		const target = GENERATED_IMAGES + path;
		const present = readOrNothing(target);
		if (!present || !present.equals(image)) {
			const temporary = `${target}.${process.pid}.tmp`;
			writeFileSync(temporary, image);
			renameSync(temporary, target);
		}
		const known = idfImageFacts(spec);
		facts.push({
			path,
			kind: "synthetic",
			chip: known.chip,
			chip_id: known.chipId,
			project_name: known.projectName,
			version: known.version,
			secure_version: known.secureVersion,
			idf_ver: known.idfVer,
			size: image.length,
			sha256: sha256Hex(image),
			hash_appended: true,
			checksum_valid: true,
			validation_hash_valid: true,
			validation_hash: sha256Hex(image.subarray(0, image.length - 32)),
			segment_count: known.segmentCount,
			entry_addr: "0x" + known.entryAddr.toString(16),
			min_chip_rev_full: known.minChipRevFull,
			max_chip_rev_full: known.maxChipRevFull,
			app_elf_sha256: known.appElfSha256,
			compile_date: known.compileDate,
			compile_time: known.compileTime,
		});
	}
	return facts;
}

/**
 * Absolute path of a fixture image: "synthetic/app-2.0.0.bin" (generated), "esptool/app-2.0.0.bin"
 * (the esptool-built twin, cross-check lane) or "real/esp32-hello_world.bin" (ESP-IDF, cross-check lane).
 */
export function fixtureImage(relative: string): string {
	if (relative.startsWith("esptool/") || relative.startsWith("real/")) {
		if (!sharedFixturesPresent) throw new Error(`${relative}: ${SKIP_REASON}`);
		return sharedImagePath(relative.replace(/^esptool\//, "synthetic/"));
	}
	return GENERATED_IMAGES + relative;
}

export function fixtureBytes(relative: string): Buffer {
	return readFileSync(fixtureImage(relative));
}

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

/** The project's generated images. */
export const generatedFixtures: readonly FixtureFacts[] = generateFixtures();

/** The cross-check lane's images, as "esptool/…" and "real/…" (empty without the cross-check folder). */
export const sharedFixtures: readonly FixtureFacts[] = sharedImageFacts().map(
	facts => ({...facts, path: facts.path.replace(/^synthetic\//, "esptool/")}) as unknown as FixtureFacts,
);

/** Every image a test can iterate over: the generated ones, and the cross-check ones when present. */
export const fixtures: readonly FixtureFacts[] = [...generatedFixtures, ...sharedFixtures];

export function fixture(path: string): FixtureFacts {
	const found = fixtures.find(f => f.path === path);
	if (!found) throw new Error("no fixture " + path);
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
	for (let i = 0; i < image[1]; i++) at += 8 + getU32(image, at + 4);
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
		for (let k = at + 8; k < at + 8 + length; k++) checksum ^= out[k];
		at += 8 + length;
	}
	out.fill(0, end, padded - 1);
	out[padded - 1] = checksum;
	if (hashed) out.set(createHash("sha256").update(out.subarray(0, padded)).digest(), padded);
	return out;
}
