/*
 * Cross-check lane: the project's own fixture images (host/tools/app-image.ts) against their
 * esptool-built twins in the cross-check folder (tests/support/shared-fixtures.ts). They differ only in
 * esp_app_desc_t.app_elf_sha256 (esptool hashes an ELF; the tool has none) and so in the checksum
 * byte and the appended SHA-256: with the twin's ELF digest put in and the image re-sealed, the
 * bytes are identical. Skipped with the reason printed when that folder is absent; a failure
 * instead under RMX_REQUIRE_SHARED_FIXTURES=1 (.ci/run).
 */
import assert from "node:assert/strict";
import {fixtureBytes, fixtureCopy, generatedFixtures, reseal, sharedFixtures} from "../support/image-fixtures";
import {requireSharedFixtures} from "../support/shared-fixtures";

const ELF_SHA256 = 0xb0;

describe("cross-check lane: generated images against esptool's", () => {
	before(function () {
		requireSharedFixtures(this);
	});

	it("has an esptool twin for every generated image, and three real ESP-IDF images", () => {
		const twins = sharedFixtures
			.filter(f => f.path.startsWith("esptool/"))
			.map(f => f.path.slice("esptool/".length))
			.sort();
		assert.deepEqual(twins, generatedFixtures.map(f => f.path.slice("synthetic/".length)).sort());
		assert.equal(sharedFixtures.filter(f => f.path.startsWith("real/")).length, 3);
	});

	for (const facts of generatedFixtures) {
		const twin = facts.path.replace(/^synthetic\//, "esptool/");
		it(`${facts.path} is byte for byte esptool's ${twin} but for the ELF digest`, () => {
			const theirs = fixtureBytes(twin);
			const mine = fixtureCopy(facts.path);
			assert.equal(mine.length, theirs.length);
			mine.set(theirs.subarray(ELF_SHA256, ELF_SHA256 + 32), ELF_SHA256);
			assert.ok(Buffer.from(reseal(mine)).equals(theirs), "identical once re-sealed");
		});

		it(`${facts.path} has the facts esptool read from ${twin}`, () => {
			const theirs = sharedFixtures.find(f => f.path === twin);
			assert.ok(theirs, twin);
			const omit = new Set(["path", "sha256", "validation_hash", "app_elf_sha256"]);
			for (const [key, value] of Object.entries(facts))
				if (!omit.has(key)) assert.deepEqual(value, (theirs as unknown as {[key: string]: unknown})[key], key);
		});
	}
});
