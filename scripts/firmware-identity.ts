/*
 * Keeps the firmware's name and version in the build files equal to package.json, their one source
 * (host/tools/firmware-identity.ts, docs/device.md §9): the generated block of
 * sdkconfig/sdkconfig.defaults and manifest.json `defines.firmware`.
 *   npx tsx scripts/firmware-identity.ts           rewrites them (run by `npm version`)
 *   npx tsx scripts/firmware-identity.ts --check   exit 1, naming the file, when one differs
 */
import {readFileSync, writeFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {
	FIRMWARE_NAME,
	FIRMWARE_VERSION,
	SDKCONFIG_BEGIN,
	SDKCONFIG_END,
	identityProblem,
	manifestDefines,
	sdkconfigBlock,
} from "../host/tools/firmware-identity";

const root = fileURLToPath(new URL("../", import.meta.url));
const SDKCONFIG = root + "sdkconfig/sdkconfig.defaults";
const MANIFEST = root + "manifest.json";

/** sdkconfig text with the generated block replaced (or appended when it is missing). */
export function syncedSdkconfig(text: string): string {
	const begin = text.indexOf(SDKCONFIG_BEGIN);
	const end = text.indexOf(SDKCONFIG_END);
	if (begin < 0 || end < begin) return text.replace(/\n*$/, "\n") + sdkconfigBlock() + "\n";
	return text.slice(0, begin) + sdkconfigBlock() + text.slice(end + SDKCONFIG_END.length);
}

/** manifest.json text with `defines.firmware` set (tab-indented, as the file is). */
export function syncedManifest(text: string): string {
	const manifest = JSON.parse(text) as {defines?: {[key: string]: unknown}};
	manifest.defines = {...manifest.defines, firmware: manifestDefines()};
	return JSON.stringify(manifest, null, "\t") + "\n";
}

function main(argv: string[]): number {
	const problem = identityProblem();
	if (problem) {
		process.stderr.write(`firmware-identity: ${problem}\n`);
		return 1;
	}
	const check = argv.includes("--check");
	let differs = false;
	for (const [file, sync] of [
		[SDKCONFIG, syncedSdkconfig],
		[MANIFEST, syncedManifest],
	] as const) {
		const text = readFileSync(file, "utf8");
		const synced = sync(text);
		if (synced === text) continue;
		if (check) {
			process.stderr.write(
				`firmware-identity: ${file} does not carry ${FIRMWARE_NAME} ${FIRMWARE_VERSION} of package.json; run npx tsx scripts/firmware-identity.ts\n`,
			);
			differs = true;
		} else {
			writeFileSync(file, synced);
			process.stdout.write(`firmware-identity: ${file} now carries ${FIRMWARE_NAME} ${FIRMWARE_VERSION}\n`);
		}
	}
	return differs ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
	process.exitCode = main(process.argv.slice(2));
