/*
 * ota/image.ts checkUpgrade: the node's header verdict (docs/protocol.md §5.12) with the reference's texts,
 * on the fixtures against app-1.0.0 as the running image; the firmware identity (docs/protocol.md §7.5), the approved
 * version and the chip revision range on images of the project's image tool.
 */
import assert from "node:assert/strict";
import {
	checkUpgrade,
	HEADER_PROBE_LENGTH,
	IDENTITY_END,
	parseImageHeader,
	type AppImageInfo,
	type NodeFacts,
	type UpgradeChecks,
} from "../../ota/image";
import {buildAppImage, buildIdfImage} from "../../host/tools/app-image";
import {FIRMWARE_NAME} from "../../host/tools/firmware-identity";
import {fixtureCopy} from "../support/image-fixtures";
import {requireSharedFixtures} from "../support/shared-fixtures";

const info = (path: string): AppImageInfo => parseImageHeader(fixtureCopy(path));
const running = info("synthetic/app-1.0.0.bin");
const chip: NodeFacts = {chipRevision: 300};
const check = (
	candidate: AppImageInfo,
	against: AppImageInfo,
	minSecureVersion: number,
	checks?: UpgradeChecks,
	node: NodeFacts = chip,
) => checkUpgrade(candidate, against, minSecureVersion, node, checks);
const head = (image: Uint8Array): AppImageInfo => parseImageHeader(image.subarray(0, HEADER_PROBE_LENGTH));

describe("upgrade checks (checkUpgrade)", () => {
	it("accepts a newer, an older and a much newer version of the same project", () => {
		assert.equal(check(info("synthetic/app-1.1.0.bin"), running, 0), undefined);
		assert.equal(check(info("synthetic/app-2.0.0.bin"), running, 0), undefined);
		assert.equal(check(info("synthetic/app-2.0.0-large.bin"), running, 0), undefined);
		// Downgrades pass: the reference compares for equality only.
		assert.equal(check(running, info("synthetic/app-2.0.0.bin"), 0), undefined);
	});

	it('refuses another project: "Project Name mismatch", unless skipped', () => {
		assert.equal(check(info("synthetic/app-other-project.bin"), running, 0), "Project Name mismatch");
		assert.equal(check(info("synthetic/app-other-project.bin"), running, 0, {skipProjectCheck: true}), undefined);
	});

	it('refuses the same version: "Same version received", unless skipped', () => {
		assert.equal(check(info("synthetic/app-1.0.0.bin"), running, 0), "Same version received");
		assert.equal(check(info("synthetic/app-1.0.0.bin"), running, 0, {skipVersionCheck: true}), undefined);
	});

	it('refuses another chip: "Chip revision mismatch" naming both chips, whatever is skipped, after the descriptor checks (docs/protocol.md §5.12 order)', () => {
		const s3 = info("synthetic/app-2.0.0-esp32s3.bin");
		const all = {skipProjectCheck: true, skipVersionCheck: true, skipSecureVersionCheck: true};
		const text = "Chip revision mismatch (the image is for esp32s3, this chip is esp32)";
		assert.equal(check(s3, running, 0), text);
		assert.equal(check(s3, running, 0, all), text);
		assert.equal(check({...running, chipId: 9}, running, 0, {skipVersionCheck: true}), text);
		assert.equal(check({...s3, version: running.version}, running, 0), "Same version received");
		assert.equal(check({...s3, secureVersion: 0}, running, 1), "Lower secure version received");
	});

	it('refuses a secure version below the eFuse minimum: "Lower secure version received", unless skipped', () => {
		const secure2 = info("synthetic/app-3.0.0-secure2.bin");
		assert.equal(secure2.secureVersion, 2);
		assert.equal(check(secure2, running, 3), "Lower secure version received");
		assert.equal(check(secure2, running, 2), undefined);
		assert.equal(check(secure2, running, 0), undefined);
		assert.equal(check(secure2, running, 3, {skipSecureVersionCheck: true}), undefined);
		assert.equal(check(info("synthetic/app-2.0.0.bin"), running, 1), "Lower secure version received");
	});

	it("checks in the reference's order: project before version before secure version", () => {
		const other = {...info("synthetic/app-other-project.bin"), version: running.version, secureVersion: 0};
		assert.equal(check(other, running, 5), "Project Name mismatch");
		assert.equal(check(other, running, 5, {skipProjectCheck: true}), "Same version received");
		assert.equal(
			check(other, running, 5, {skipProjectCheck: true, skipVersionCheck: true}),
			"Lower secure version received",
		);
	});
});

describe("upgrade checks: chip revision range (esp_https_ota's esp_ota_verify_chip_revision)", () => {
	const ranged = (min: number, max: number) =>
		head(
			buildIdfImage({version: "2.0.0", identity: false}).map((byte, i) =>
				i === 15 ? min & 0xff : i === 16 ? min >> 8 : i === 17 ? max & 0xff : i === 18 ? max >> 8 : byte,
			),
		);

	it("refuses a chip older than min_chip_rev_full, naming both revisions", () => {
		assert.equal(
			check(ranged(301, 399), running, 0, {}, {chipRevision: 300}),
			"Chip revision mismatch (the image needs v3.1 or later, this chip is v3.0)",
		);
		assert.equal(check(ranged(300, 399), running, 0, {}, {chipRevision: 300}), undefined);
	});

	it("refuses a chip newer than max_chip_rev_full, unless the field is unset (0 or 0xFFFF)", () => {
		assert.equal(
			check(ranged(0, 199), running, 0, {}, {chipRevision: 300}),
			"Chip revision mismatch (the image supports up to v1.99, this chip is v3.0)",
		);
		assert.equal(check(ranged(0, 300), running, 0, {}, {chipRevision: 300}), undefined);
		assert.equal(check(ranged(0, 0), running, 0, {}, {chipRevision: 300}), undefined);
		assert.equal(check(ranged(0, 0xffff), running, 0, {}, {chipRevision: 9999}), undefined);
	});

	it("is not skipped by any option, and comes after the descriptor checks", () => {
		const all = {skipProjectCheck: true, skipVersionCheck: true, skipSecureVersionCheck: true};
		assert.match(check(ranged(400, 499), running, 0, all)!, /^Chip revision mismatch \(the image needs v4\.0/);
		assert.equal(check({...ranged(400, 499), version: running.version}, running, 0), "Same version received");
	});
});

describe("upgrade checks: the approved fw_version", () => {
	const v110 = info("synthetic/app-1.1.0.bin");

	it("refuses an image whose descriptor version is not the job's fw_version, naming both", () => {
		assert.equal(
			check(v110, running, 0, {}, {chipRevision: 300, approvedVersion: "1.0.1-security"}),
			"Version mismatch: the image is 1.1.0, the approved job is 1.0.1-security",
		);
		assert.equal(check(v110, running, 0, {}, {chipRevision: 300, approvedVersion: "1.1.0"}), undefined);
		assert.equal(check(v110, running, 0, {}, {chipRevision: 300}), undefined, "a job without fw_version");
	});

	it("compares the whole string exactly, and no option skips it", () => {
		for (const approved of ["1.1", "1.1.0 ", "v1.1.0", "1.1.0-rc1"])
			assert.match(
				check(v110, running, 0, {skipVersionCheck: true}, {chipRevision: 300, approvedVersion: approved})!,
				/^Version mismatch/,
				approved,
			);
	});

	it("comes after the reference's same-version check and before the secure version", () => {
		assert.equal(
			check(running, running, 0, {}, {chipRevision: 300, approvedVersion: "2.0.0"}),
			"Same version received",
		);
		assert.match(check(v110, running, 9, {}, {chipRevision: 300, approvedVersion: "2.0.0"})!, /^Version mismatch/);
	});
});

describe("upgrade checks: the firmware identity (docs/protocol.md §7.5)", () => {
	const ours = (version: string, identity?: string | false) =>
		head(buildAppImage({version, identity, payloadSize: 1024}));

	it("reads the identity at offset 288 from the first 328 bytes, and none from fewer or from plain images", () => {
		const image = buildAppImage({version: "1.0.0", payloadSize: 1024});
		assert.equal(parseImageHeader(image.subarray(0, IDENTITY_END)).identity, FIRMWARE_NAME);
		assert.equal(parseImageHeader(image.subarray(0, IDENTITY_END - 1)).identity, undefined);
		assert.equal(info("synthetic/app-1.0.0.bin").identity, undefined);
		assert.equal(head(buildIdfImage({version: "1.0.0"})).identity, FIRMWARE_NAME);
	});

	it("refuses an image of the same project without the running firmware's identity (another Moddable app: xs_esp32 too)", () => {
		const runningOurs = {...ours("1.0.0"), projectName: "xs_esp32"};
		const otherApp = {...ours("8.2.3", false), projectName: "xs_esp32"};
		assert.equal(
			check(otherApp, runningOurs, 0),
			`Project Name mismatch: xs_esp32 8.2.3 is another app (no ${FIRMWARE_NAME} identity at offset 288)`,
		);
	});

	it("refuses an image of another firmware identity, naming both", () => {
		assert.equal(
			check(ours("2.0.0", "thermostat"), ours("1.0.0"), 0),
			`Project Name mismatch: the image is firmware thermostat, this node runs ${FIRMWARE_NAME}`,
		);
	});

	it("accepts the same identity; skipProjectCheck skips it with the project name", () => {
		assert.equal(check(ours("2.0.0"), ours("1.0.0"), 0), undefined);
		assert.equal(check(ours("2.0.0", false), ours("1.0.0"), 0, {skipProjectCheck: true}), undefined);
		assert.equal(check(ours("2.0.0", "thermostat"), ours("1.0.0"), 0, {skipProjectCheck: true}), undefined);
	});

	it("is not asked of a node whose running image carries none (a plain ESP-IDF image, as the fixtures are)", () => {
		assert.equal(check(ours("2.0.0"), running, 0), undefined);
		assert.equal(check(info("synthetic/app-2.0.0.bin"), running, 0), undefined);
	});

	it("comes after the project name and before the version", () => {
		assert.equal(
			check({...ours("1.0.0", "thermostat"), projectName: "x"}, ours("1.0.0"), 0),
			"Project Name mismatch",
		);
		assert.match(
			check(ours("1.0.0", false), ours("1.0.0"), 0)!,
			/^Project Name mismatch: rainmaker-ota-xs 1\.0\.0 is another app/,
		);
	});
});

describe("upgrade checks: cross-check lane, real ESP-IDF images", () => {
	before(function () {
		requireSharedFixtures(this);
	});
	it("refuses a real image of another project, and a real image of another chip and project with the project text first", () => {
		assert.equal(check(info("real/esp32-hello_world.bin"), running, 0), "Project Name mismatch");
		// A foreign image (another project, another chip) gets the reference's first text (docs/protocol.md §5.12 order).
		assert.equal(check(info("real/esp32s3-hello_world.bin"), running, 0), "Project Name mismatch");
		assert.match(
			check(info("real/esp32s3-hello_world.bin"), running, 0, {
				skipProjectCheck: true,
				skipVersionCheck: true,
				skipSecureVersionCheck: true,
			})!,
			/^Chip revision mismatch \(the image is for esp32s3/,
		);
	});

	it("real ESP-IDF images carry no firmware identity: a node running this firmware refuses them even with the project name check alone passing", () => {
		const real = info("real/esp32-hello_world.bin");
		assert.equal(real.identity, undefined);
		const ownBuild = {...ours(), projectName: real.projectName};
		assert.match(
			check(real, ownBuild, 0)!,
			new RegExp(`^Project Name mismatch: ${real.projectName} .* is another app \\(no ${FIRMWARE_NAME} identity`),
		);
	});
});

function ours(): AppImageInfo {
	return head(buildAppImage({version: "0.0.1", payloadSize: 1024}));
}
