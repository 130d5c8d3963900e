/*
 * package.json is the one source of the firmware's name and version (host/tools/firmware-identity.ts,
 * docs/device.md §9): the sdkconfig lines that give the esp32 build its esp_app_desc_t.version, the
 * manifest's defines.firmware that native/app_identity_esp32.c puts at offset 288, and the identity
 * layout of that C file must all agree with it and with ota/image.ts.
 */
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {IDENTITY_LENGTH, IDENTITY_MAGIC, IDENTITY_NAME_LENGTH, IDENTITY_OFFSET} from "../../ota/image";
import {
	FIRMWARE_NAME,
	FIRMWARE_VERSION,
	identityProblem,
	manifestDefines,
	sdkconfigBlock,
} from "../../host/tools/firmware-identity";
import {syncedManifest, syncedSdkconfig} from "../../scripts/firmware-identity";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const pkg = JSON.parse(read("package.json")) as {name: string; version: string; scripts: {[name: string]: string}};

describe("firmware identity: package.json is the one source", () => {
	it("takes the name and version from package.json, and both fit their image fields", () => {
		assert.equal(FIRMWARE_NAME, pkg.name);
		assert.equal(FIRMWARE_VERSION, pkg.version);
		assert.equal(identityProblem(), undefined);
		assert.match(identityProblem("x".repeat(32), "1")!, /name .* must have 1 to 31 bytes/);
		assert.match(identityProblem("fw", "1.0.0-" + "x".repeat(26))!, /version .* must have 1 to 31 bytes/);
		assert.match(identityProblem("fw", '1"0')!, /quotes/);
	});

	it("sdkconfig/sdkconfig.defaults sets CONFIG_APP_PROJECT_VER_FROM_CONFIG=y and CONFIG_APP_PROJECT_VER to package.json's version", () => {
		const sdkconfig = read("sdkconfig/sdkconfig.defaults");
		assert.ok(sdkconfig.includes(sdkconfigBlock()), "run npx tsx scripts/firmware-identity.ts");
		assert.match(sdkconfig, /^CONFIG_APP_PROJECT_VER_FROM_CONFIG=y$/m);
		assert.deepEqual(sdkconfig.match(/^CONFIG_APP_PROJECT_VER=.*$/gm), [`CONFIG_APP_PROJECT_VER="${pkg.version}"`]);
		// mcconfig drops an option it cannot parse (name=value on one line): nothing may exclude the version or the name.
		assert.doesNotMatch(sdkconfig, /^CONFIG_APP_EXCLUDE_PROJECT_(VER|NAME)_VAR=y/m);
		assert.equal(syncedSdkconfig(sdkconfig), sdkconfig, "already in sync");
	});

	it("manifest.json defines.firmware carries the same name and version (MODDEF_FIRMWARE_NAME for the C identity)", () => {
		const text = read("manifest.json");
		const manifest = JSON.parse(text) as {defines: {firmware: unknown}};
		assert.deepEqual(manifest.defines.firmware, manifestDefines());
		assert.deepEqual(manifestDefines(), {name: "#" + pkg.name, version: "#" + pkg.version});
		assert.equal(syncedManifest(text), text, "already in sync");
	});

	it("the sync rewrites a file that names another version, and only the generated block", () => {
		const stale = "CONFIG_A=y\n" + sdkconfigBlock("0.0.9") + "\nCONFIG_B=n\n";
		assert.equal(syncedSdkconfig(stale), "CONFIG_A=y\n" + sdkconfigBlock() + "\nCONFIG_B=n\n");
		assert.equal(syncedSdkconfig("CONFIG_A=y"), "CONFIG_A=y\n" + sdkconfigBlock() + "\n");
		const manifest = JSON.stringify(
			{build: {}, defines: {firmware: manifestDefines("x", "0.0.9"), other: 1}},
			null,
			"\t",
		);
		assert.deepEqual(JSON.parse(syncedManifest(manifest)).defines, {firmware: manifestDefines(), other: 1});
	});

	it("`npm version` runs the sync, so a version bump reaches the build files", () => {
		assert.match(pkg.scripts.version, /scripts\/firmware-identity\.ts/);
		assert.match(pkg.scripts.version, /git add .*manifest\.json.*sdkconfig\/sdkconfig\.defaults/);
	});

	it("native/app_identity_esp32.c lays the identity out as ota/image.ts reads it, in .rodata_custom_desc (offset 288)", () => {
		const source = read("native/app_identity_esp32.c");
		assert.equal(IDENTITY_OFFSET, 24 + 8 + 256);
		assert.match(source, new RegExp(`#define RMX_IDENTITY_MAGIC 0x${IDENTITY_MAGIC.toString(16).toUpperCase()}u`));
		assert.match(
			source,
			/__attribute__\(\(section\("\.rodata_custom_desc"\), aligned\(4\)\)\) rmx_app_identity_t rmx_app_identity/,
		);
		assert.match(
			source,
			new RegExp(`uint32_t magic;\\s+char name\\[${IDENTITY_NAME_LENGTH}\\];[^\\n]*\\s+uint32_t reserved;`),
		);
		assert.match(source, new RegExp(`sizeof\\(rmx_app_identity_t\\) == ${IDENTITY_LENGTH}`));
		assert.match(source, /\.name = MODDEF_FIRMWARE_NAME,/);
		// referenced by a linked function, so --gc-sections keeps the section
		assert.match(source, /return rmx_app_identity\.name;/);
	});
});
