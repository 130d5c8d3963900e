/*
 * The image header checks (ota/image.ts) in XS give exactly what they give on Node, for every
 * fixture image and for broken headers.
 */
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {checkUpgrade, HEADER_PROBE_LENGTH, ImageError, parseImageHeader} from "../../ota/image";
import {buildAppImage} from "../../host/tools/app-image";
import {FIRMWARE_NAME} from "../../host/tools/firmware-identity";
import {fixtureImage, fixtures as fixtureList, sharedFixtures} from "../support/image-fixtures";
import {XsGuest} from "./harness/xs-guest";

const fixtures = {images: fixtureList};

function probe(path: string): Uint8Array {
	return new Uint8Array(readFileSync(fixtureImage(path)).subarray(0, HEADER_PROBE_LENGTH));
}

/** What the same check gives on Node (JSON round trip, as the bridge carries it). */
function onNode(candidate: Uint8Array, running: Uint8Array, minSecureVersion: number): unknown {
	try {
		const info = parseImageHeader(candidate);
		return JSON.parse(
			JSON.stringify({
				candidate: info,
				verdict: checkUpgrade(info, parseImageHeader(running), minSecureVersion, {chipRevision: 0}) ?? null,
			}),
		);
	} catch (error) {
		if (error instanceof ImageError) return {error: {code: error.code, message: error.message}};
		throw error;
	}
}

describe("real XS lane: image header checks", function () {
	this.timeout(30000);
	let guest: XsGuest;
	before(async () => {
		guest = await XsGuest.start({nodeId: "xs-image-1"});
	});
	after(async () => {
		await guest.close();
	});

	async function inXs(candidate: Uint8Array, running: Uint8Array, minSecureVersion = 0): Promise<unknown> {
		const bytes = new Uint8Array(HEADER_PROBE_LENGTH * 2);
		bytes.set(candidate.subarray(0, HEADER_PROBE_LENGTH));
		bytes.set(running, HEADER_PROBE_LENGTH);
		return guest.request("image.check", {minSecureVersion}, bytes);
	}

	it("parses every fixture's header as fixtures.json says and judges it as Node does", async () => {
		const running = probe("synthetic/app-1.0.0.bin");
		assert.equal(fixtures.images.length, sharedFixtures.length + 7);
		for (const image of fixtures.images) {
			const result = (await inXs(probe(image.path), running)) as {
				candidate: {version: string; projectName: string; secureVersion: number; chipId: number};
			};
			assert.equal(result.candidate.version, image.version, image.path);
			assert.equal(result.candidate.projectName, image.project_name, image.path);
			assert.equal(result.candidate.secureVersion, image.secure_version, image.path);
			assert.equal(result.candidate.chipId, image.chip_id, image.path);
			assert.deepEqual(result, onNode(probe(image.path), running, 0), image.path);
		}
	});

	it("refuses the same images for the same reasons (other chip, other project, same version, anti-rollback)", async () => {
		const running = probe("synthetic/app-1.0.0.bin");
		const verdicts = new Map<string, unknown>();
		for (const path of [
			"synthetic/app-2.0.0-esp32s3.bin",
			"synthetic/app-other-project.bin",
			"synthetic/app-1.0.0.bin",
			"synthetic/app-2.0.0.bin",
		])
			verdicts.set(path, ((await inXs(probe(path), running)) as {verdict: unknown}).verdict);
		assert.equal(verdicts.get("synthetic/app-2.0.0.bin"), null, "a newer image of the project is accepted");
		for (const path of [
			"synthetic/app-2.0.0-esp32s3.bin",
			"synthetic/app-other-project.bin",
			"synthetic/app-1.0.0.bin",
		])
			assert.equal(typeof verdicts.get(path), "string", `${path} is refused`);
		const secure = probe("synthetic/app-2.0.0.bin");
		assert.deepEqual(await inXs(secure, running, 3), onNode(secure, running, 3));
		assert.equal(
			typeof ((await inXs(secure, running, 3)) as {verdict: unknown}).verdict,
			"string",
			"below the eFuse secure version",
		);
	});

	it("reads the firmware identity and judges it, the approved version and the chip revision as Node does", async () => {
		const head = (image: Uint8Array) => image.slice(0, HEADER_PROBE_LENGTH);
		const running = head(buildAppImage({version: "1.0.0", payloadSize: 1024}));
		const cases: [Uint8Array, {chipRevision?: number; approvedVersion?: string}, string | null][] = [
			[head(buildAppImage({version: "2.0.0", payloadSize: 1024})), {}, null],
			[
				head(buildAppImage({version: "2.0.0", identity: false, payloadSize: 1024})),
				{},
				`Project Name mismatch: rainmaker-ota-xs 2.0.0 is another app (no ${FIRMWARE_NAME} identity at offset 288)`,
			],
			[
				head(buildAppImage({version: "2.0.0", identity: "thermostat", payloadSize: 1024})),
				{},
				`Project Name mismatch: the image is firmware thermostat, this node runs ${FIRMWARE_NAME}`,
			],
			[
				head(buildAppImage({version: "1.1.0", payloadSize: 1024})),
				{approvedVersion: "1.0.1-security"},
				"Version mismatch: the image is 1.1.0, the approved job is 1.0.1-security",
			],
			[
				head(buildAppImage({version: "2.0.0", minChipRevFull: 300, payloadSize: 1024})),
				{chipRevision: 100},
				"Chip revision mismatch (the image needs v3.0 or later, this chip is v1.0)",
			],
		];
		for (const [candidate, node, verdict] of cases) {
			const bytes = new Uint8Array(HEADER_PROBE_LENGTH * 2);
			bytes.set(candidate);
			bytes.set(running, HEADER_PROBE_LENGTH);
			const result = (await guest.request("image.check", {minSecureVersion: 0, ...node}, bytes)) as {
				candidate: {identity?: string};
				verdict: string | null;
			};
			assert.equal(result.verdict, verdict);
			assert.equal(
				result.verdict,
				checkUpgrade(parseImageHeader(candidate), parseImageHeader(running), 0, {
					chipRevision: node.chipRevision ?? 0,
					approvedVersion: node.approvedVersion,
				}) ?? null,
			);
		}
		assert.deepEqual(guest.faults, []);
	});

	it("reports broken headers with the same error codes as on Node", async () => {
		const running = probe("synthetic/app-1.0.0.bin");
		const badMagic = probe("synthetic/app-2.0.0.bin");
		badMagic[0] = 0x00;
		const badDescriptor = probe("synthetic/app-2.0.0.bin");
		badDescriptor[32] ^= 0xff;
		const truncated = probe("synthetic/app-2.0.0.bin").slice(0, 100);
		for (const [name, bytes] of [
			["magic", badMagic],
			["app-desc-magic", badDescriptor],
		] as const) {
			const result = (await inXs(bytes, running)) as {error?: {code: string}};
			assert.equal(result.error?.code, name);
			assert.deepEqual(result, onNode(bytes, running, 0));
		}
		// A short probe reaches XS zero-padded (the guest always gets HEADER_PROBE_LENGTH bytes): the descriptor magic is then missing.
		const padded = new Uint8Array(HEADER_PROBE_LENGTH);
		padded.set(truncated);
		assert.deepEqual(await inXs(padded, running), onNode(padded, running, 0));
		assert.deepEqual(guest.faults, []);
	});
});
