/*
 * ota/image.ts checkUpgrade: the node's header verdict (docs/protocol.md §5.12) with the reference's texts,
 * on the fixtures against app-1.0.0 as the running image.
 */
import assert from "node:assert/strict";
import {checkUpgrade, parseImageHeader, type AppImageInfo} from "../../ota/image";
import {fixtureCopy} from "../support/image-fixtures";
import {requireSharedFixtures} from "../support/shared-fixtures";

const info = (path: string): AppImageInfo => parseImageHeader(fixtureCopy(path));
const running = info("synthetic/app-1.0.0.bin");

describe("upgrade checks (checkUpgrade)", () => {
	it("accepts a newer, an older and a much newer version of the same project", () => {
		assert.equal(checkUpgrade(info("synthetic/app-1.1.0.bin"), running, 0), undefined);
		assert.equal(checkUpgrade(info("synthetic/app-2.0.0.bin"), running, 0), undefined);
		assert.equal(checkUpgrade(info("synthetic/app-2.0.0-large.bin"), running, 0), undefined);
		// Downgrades pass: the reference compares for equality only.
		assert.equal(checkUpgrade(running, info("synthetic/app-2.0.0.bin"), 0), undefined);
	});

	it("refuses another project: \"Project Name mismatch\", unless skipped", () => {
		assert.equal(checkUpgrade(info("synthetic/app-other-project.bin"), running, 0), "Project Name mismatch");
		assert.equal(checkUpgrade(info("synthetic/app-other-project.bin"), running, 0, {skipProjectCheck: true}), undefined);
	});

	it("refuses the same version: \"Same version received\", unless skipped", () => {
		assert.equal(checkUpgrade(info("synthetic/app-1.0.0.bin"), running, 0), "Same version received");
		assert.equal(checkUpgrade(info("synthetic/app-1.0.0.bin"), running, 0, {skipVersionCheck: true}), undefined);
	});

	it("refuses another chip: \"Chip revision mismatch\", whatever is skipped, after the descriptor checks (docs/protocol.md §5.12 order)", () => {
		const s3 = info("synthetic/app-2.0.0-esp32s3.bin");
		const all = {skipProjectCheck: true, skipVersionCheck: true, skipSecureVersionCheck: true};
		assert.equal(checkUpgrade(s3, running, 0), "Chip revision mismatch");
		assert.equal(checkUpgrade(s3, running, 0, all), "Chip revision mismatch");
		assert.equal(checkUpgrade({...running, chipId: 9}, running, 0, {skipVersionCheck: true}), "Chip revision mismatch");
		assert.equal(checkUpgrade({...s3, version: running.version}, running, 0), "Same version received");
		assert.equal(checkUpgrade({...s3, secureVersion: 0}, running, 1), "Lower secure version received");
	});

	it("refuses a secure version below the eFuse minimum: \"Lower secure version received\", unless skipped", () => {
		const secure2 = info("synthetic/app-3.0.0-secure2.bin");
		assert.equal(secure2.secureVersion, 2);
		assert.equal(checkUpgrade(secure2, running, 3), "Lower secure version received");
		assert.equal(checkUpgrade(secure2, running, 2), undefined);
		assert.equal(checkUpgrade(secure2, running, 0), undefined);
		assert.equal(checkUpgrade(secure2, running, 3, {skipSecureVersionCheck: true}), undefined);
		assert.equal(checkUpgrade(info("synthetic/app-2.0.0.bin"), running, 1), "Lower secure version received");
	});

	it("checks in the reference's order: project before version before secure version", () => {
		const other = {...info("synthetic/app-other-project.bin"), version: running.version, secureVersion: 0};
		assert.equal(checkUpgrade(other, running, 5), "Project Name mismatch");
		assert.equal(checkUpgrade(other, running, 5, {skipProjectCheck: true}), "Same version received");
		assert.equal(checkUpgrade(other, running, 5, {skipProjectCheck: true, skipVersionCheck: true}), "Lower secure version received");
	});
});

describe("upgrade checks: cross-check lane, real ESP-IDF images", () => {
	before(function () {
		requireSharedFixtures(this);
	});
	it("refuses a real image of another project, and a real image of another chip and project with the project text first", () => {
		assert.equal(checkUpgrade(info("real/esp32-hello_world.bin"), running, 0), "Project Name mismatch");
		// A foreign image (another project, another chip) gets the reference's first text (docs/protocol.md §5.12 order).
		assert.equal(checkUpgrade(info("real/esp32s3-hello_world.bin"), running, 0), "Project Name mismatch");
		assert.equal(checkUpgrade(info("real/esp32s3-hello_world.bin"), running, 0, {skipProjectCheck: true, skipVersionCheck: true, skipSecureVersionCheck: true}), "Chip revision mismatch");
	});
});
