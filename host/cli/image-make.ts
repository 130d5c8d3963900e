/*
 * `rainmaker-ota-xs image make …`: writes ESP32 app images with the project's image tool
 * (host/tools/app-image.ts buildIdfImage), the same images the tests use: one image with the
 * given version, project, chip and secure version, carrying the firmware identity (package.json's
 * name, docs/protocol.md §7.5) unless told otherwise, or the whole fixture set (plain ESP-IDF images,
 * without identity) into a folder. They pass every check of ESP-IDF's image verification; they are
 * not runnable programs. Exit 0 on success, 2 on usage errors or an unwritable file.
 */
import {mkdirSync, writeFileSync} from "node:fs";
import {dirname, join} from "node:path";
import {parseArgs} from "node:util";
import {FIXTURE_SPECS, buildIdfImage, type IdfImageSpec} from "../tools/app-image";
import {FIRMWARE_NAME} from "../tools/firmware-identity";
import type {CommandOutput} from "./command-output";

export const IMAGE_MAKE_USAGE = [
	"usage: rainmaker-ota-xs image make <file> --version <v> [--project <name>] [--chip esp32|esp32s3]",
	"         [--secure-version <n>] [--size <bytes>] [--identity <name>|none]",
	"       rainmaker-ota-xs image make --fixtures <dir>",
	"  Writes a valid ESP32 app image (ESP-IDF layout) with that version; --size is the read-only data",
	`  after the app descriptor (default 4096). --identity is the firmware identity at offset 288 (default`,
	`  ${FIRMWARE_NAME}, as this firmware's builds; none: an image without one, as other apps').`,
	"  --fixtures writes the tests' seven images (plain ESP-IDF images, no identity) into <dir>/synthetic/.",
];

function usage(output: CommandOutput, message: string): number {
	output.err("rainmaker-ota-xs image make: " + message);
	for (const line of IMAGE_MAKE_USAGE) output.err(line);
	return 2;
}

export function imageMakeCommand(argv: string[], output: CommandOutput): number {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				version: {type: "string"},
				project: {type: "string"},
				chip: {type: "string"},
				"secure-version": {type: "string"},
				size: {type: "string"},
				identity: {type: "string"},
				fixtures: {type: "string"},
				help: {type: "boolean", short: "h", default: false},
			},
		});
	} catch (error) {
		return usage(output, (error as Error).message);
	}
	const {values, positionals} = parsed;
	if (values.help) {
		for (const line of IMAGE_MAKE_USAGE) output.out(line);
		return 0;
	}
	try {
		if (values.fixtures !== undefined) {
			if (positionals.length > 0 || values.version !== undefined)
				return usage(output, "--fixtures takes a folder and nothing else");
			mkdirSync(join(values.fixtures, "synthetic"), {recursive: true});
			for (const [name, spec] of Object.entries(FIXTURE_SPECS)) {
				const file = join(values.fixtures, "synthetic", name + ".bin");
				const image = buildIdfImage(spec);
				writeFileSync(file, image);
				output.out(`${file}: ${describe(spec)}, ${image.length} bytes`);
			}
			return 0;
		}
		if (positionals.length !== 1)
			return usage(output, positionals.length === 0 ? "no output file given" : "one output file at a time");
		if (values.version === undefined) return usage(output, "--version is required");
		const spec: IdfImageSpec = {version: values.version};
		if (values.project !== undefined) spec.projectName = values.project;
		if (values.chip !== undefined) {
			if (values.chip !== "esp32" && values.chip !== "esp32s3")
				return usage(output, `--chip must be esp32 or esp32s3, got ${JSON.stringify(values.chip)}`);
			spec.chip = values.chip;
		}
		if (values["secure-version"] !== undefined) {
			const text = values["secure-version"];
			if (!/^\d+$/.test(text) || Number(text) > 32)
				return usage(output, "--secure-version must be an integer 0..32");
			spec.secureVersion = Number(text);
		}
		if (values.size !== undefined) {
			const text = values.size;
			if (!/^\d+$/.test(text) || Number(text) % 4 !== 0 || Number(text) > 16 * 1024 * 1024 - 256)
				return usage(output, "--size must be a multiple of 4 below 16 MiB");
			spec.rodataSize = Number(text);
		}
		if (values.identity !== undefined) {
			const name = values.identity;
			if (name === "" || new TextEncoder().encode(name).length > 31)
				return usage(output, "--identity must be a name of 1 to 31 bytes, or none");
			spec.identity = name === "none" ? false : name;
		}
		const image = buildIdfImage(spec);
		mkdirSync(dirname(positionals[0]), {recursive: true});
		writeFileSync(positionals[0], image);
		output.out(`${positionals[0]}: ${describe(spec)}, ${image.length} bytes`);
		return 0;
	} catch (error) {
		output.err("rainmaker-ota-xs image make: " + (error as Error).message);
		return 2;
	}
}

function describe(spec: IdfImageSpec): string {
	const identity = spec.identity === false ? "no identity" : `identity ${spec.identity ?? FIRMWARE_NAME}`;
	return `${spec.projectName ?? "rainmaker-ota-xs"} ${spec.version}, ${spec.chip ?? "esp32"}, ${identity}`;
}
