/*
 * The firmware's name and version: package.json is their one source (docs/device.md §9). Everything
 * else is derived from it, or kept equal to it by scripts/firmware-identity.ts and checked by
 * tests/unit/firmware-identity.test.ts:
 * - manifest.json `defines.firmware` (MODDEF_FIRMWARE_NAME / MODDEF_FIRMWARE_VERSION in mc.defines.h,
 *   read by native/app_identity_esp32.c, which puts the name into every esp32 image at offset 288);
 * - the sdkconfig lines CONFIG_APP_PROJECT_VER_FROM_CONFIG=y and CONFIG_APP_PROJECT_VER="<version>",
 *   which make ESP-IDF write the version into esp_app_desc_t.version of the esp32 build (mcconfig
 *   merges sdkconfig files verbatim: it cannot substitute a manifest value into them);
 * - the identity the host's image tool writes (host/tools/app-image.ts).
 */
import {readFileSync} from "node:fs";
import {IDENTITY_NAME_LENGTH} from "../../ota/image";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
	name: string;
	version: string;
};

/** The firmware identity's name (package.json `name`). */
export const FIRMWARE_NAME: string = pkg.name;
/** The firmware's version (package.json `version`): esp_app_desc_t.version of the esp32 build. */
export const FIRMWARE_VERSION: string = pkg.version;

/** The marker lines around the generated part of sdkconfig/sdkconfig.defaults. */
export const SDKCONFIG_BEGIN =
	"# --- firmware version: generated from package.json by scripts/firmware-identity.ts, do not edit ---";
export const SDKCONFIG_END = "# --- end of firmware version ---";

/** The generated sdkconfig block (marker lines included). */
export function sdkconfigBlock(version = FIRMWARE_VERSION): string {
	return [
		SDKCONFIG_BEGIN,
		"# ESP-IDF takes esp_app_desc_t.version from CONFIG_APP_PROJECT_VER when this is y (else from git describe",
		'# of the Moddable SDK checkout, or "1"): so two builds of different versions update each other.',
		"CONFIG_APP_PROJECT_VER_FROM_CONFIG=y",
		`CONFIG_APP_PROJECT_VER="${version}"`,
		SDKCONFIG_END,
	].join("\n");
}

/** The manifest's `defines.firmware` for mc.defines.h ("#…" makes mcconfig write a C string). */
export function manifestDefines(name = FIRMWARE_NAME, version = FIRMWARE_VERSION): {name: string; version: string} {
	return {name: "#" + name, version: "#" + version};
}

/** Why the name or version cannot go into an image, or undefined (both fit their 31-character fields, no quotes). */
export function identityProblem(name = FIRMWARE_NAME, version = FIRMWARE_VERSION): string | undefined {
	const size = (text: string) => new TextEncoder().encode(text).length;
	if (size(name) === 0 || size(name) >= IDENTITY_NAME_LENGTH)
		return `package.json name ${JSON.stringify(name)} must have 1 to ${IDENTITY_NAME_LENGTH - 1} bytes (the identity's name field)`;
	if (size(version) === 0 || size(version) >= 32)
		return `package.json version ${JSON.stringify(version)} must have 1 to 31 bytes (esp_app_desc_t.version)`;
	if (/["\\\n]/.test(name + version))
		return "package.json name and version must not contain quotes, backslashes or line breaks (they go into sdkconfig and C strings)";
	return undefined;
}
