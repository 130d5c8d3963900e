/*
 * host/tools/app-image.ts restampAppVersion: the QEMU demo's way to offer the binary it booted as
 * another version (docs/device.md, section 11). The copy must pass every check of the project's
 * esp_image_verify model with the new version, and the source must stay untouched.
 */
import {strict as assert} from "node:assert";
import {buildIdfImage, restampAppVersion} from "../host/tools/app-image";
import {createDigest} from "../host/adapters/digest";
import {verifyImage} from "../idf/image-verifier";
import {CHIP_IDS} from "../ota/image";

describe("restampAppVersion", () => {
	it("gives a valid image that says the new version, with the rest of the bytes unchanged", () => {
		const source = buildIdfImage({version: "1.0.0"});
		const before = source.slice();
		const stamped = restampAppVersion(source, "2.0.0");
		assert.deepEqual(source, before, "the source image is not modified");
		const verdict = verifyImage(stamped, createDigest, {chipId: CHIP_IDS.esp32});
		assert.equal(verdict.valid, true, verdict.reason);
		assert.equal(verdict.info?.version, "2.0.0");
		assert.equal(verifyImage(source, createDigest).info?.version, "1.0.0");
		let differing = 0;
		for (let i = 0; i < source.length; i++) differing += source[i] === stamped[i] ? 0 : 1;
		assert.ok(
			differing <= 1 + 1 + 32,
			`only the version byte, the checksum and the hash differ (${differing} bytes)`,
		);
	});

	it("refuses bytes that are not an app image, saying why", () => {
		assert.throws(() => restampAppVersion(new Uint8Array(1024), "2.0.0"), /not an ESP-IDF app image/);
		assert.throws(
			() => restampAppVersion(buildIdfImage({version: "1.0.0"}), "a-version-longer-than-thirty-one-bytes"),
			/does not fit/,
		);
	});
});
