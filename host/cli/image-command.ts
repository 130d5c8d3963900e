/*
 * `rainmaker-ota-xs image <file> [--running <file>] [--json] …`: an ESP32 app image's facts and the
 * verdict the node would reach on it, with the node's own checks (ota/image.ts): the header checks
 * against the running image (project and firmware identity, version, the approved version, secure
 * version, chip id and revision; docs/protocol.md §5.12), the full
 * verification esp_ota_end performs (checksum byte, appended SHA-256) and the OTA slot size.
 * Exit code 0 only when the node would install the image; 1 when it would refuse it; 2 on usage
 * errors or an unreadable file.
 */
import {closeSync, openSync, readSync} from "node:fs";
import {parseArgs} from "node:util";
import {
	HEADER_PROBE_LENGTH,
	checkUpgrade,
	chipName,
	chipRevisionText,
	parseImageHeader,
	type AppImageInfo,
} from "../../ota/image";
import {ImageVerifier, type ImageVerdict} from "../../idf/image-verifier";
import {createDigest} from "../adapters/digest";
import {DEFAULT_PARTITIONS_FILE, readPartitionTable} from "../adapters/partitions";
import {consoleOutput, type CommandOutput} from "./command-output";
import {imageMakeCommand} from "./image-make";

export const IMAGE_USAGE = [
	"usage: rainmaker-ota-xs image <file> [--running <file>] [--json]",
	"         [--min-secure-version <n>] [--skip-project-check] [--skip-version-check]",
	"         [--skip-secure-version-check] [--chip-revision vX.Y] [--fw-version <v>]",
	"         [--partitions <partitions.csv>]",
	"       rainmaker-ota-xs image make …   (writes an image: image make --help)",
	"  Prints the image's facts and whether the node would install it (exit 0) or refuse it (exit 1).",
	"  --running <file>    the image the node runs; without it only the format and size are judged",
	"  --json              the facts and the verdict as one JSON object",
	"  --min-secure-version <n>  the chip's eFuse secure version (default 0)",
	"  --chip-revision vX.Y      the chip's revision, checked against the image's range (default v0.0)",
	"  --fw-version <v>    the fw_version of the approved job: the image's version must be exactly that",
	"  --skip-project-check, --skip-version-check, --skip-secure-version-check",
	"                      skip that check of the image against --running, as the node's options do",
	"  --partitions <csv>  the partition table whose OTA slot must hold the image (default: the project's)",
];

interface ImageReport {
	file: string;
	size: number;
	valid: boolean;
	reason?: string;
	expectedLength: number;
	trailingBytes: number;
	checksumValid: boolean;
	hashValid: boolean;
	/** SHA-256 of [0, padded): equals the appended hash of a valid image. */
	validationHash?: string;
	headerError?: string;
	info?: AppImageInfo & {chip: string};
}

export function imageCommand(argv: string[], output: CommandOutput = consoleOutput): number {
	if (argv[0] === "make") return imageMakeCommand(argv.slice(1), output);
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			options: {
				running: {type: "string"},
				json: {type: "boolean", default: false},
				"min-secure-version": {type: "string"},
				"chip-revision": {type: "string"},
				"fw-version": {type: "string"},
				"skip-project-check": {type: "boolean", default: false},
				"skip-version-check": {type: "boolean", default: false},
				"skip-secure-version-check": {type: "boolean", default: false},
				partitions: {type: "string"},
				help: {type: "boolean", short: "h", default: false},
			},
		});
	} catch (error) {
		return usage(output, (error as Error).message);
	}
	const {values, positionals} = parsed;
	if (values.help) {
		for (const line of IMAGE_USAGE) output.out(line);
		return 0;
	}
	if (positionals.length !== 1)
		return usage(output, positionals.length === 0 ? "no image file given" : "one image file at a time");
	let minSecureVersion = 0;
	if (values["min-secure-version"] !== undefined) {
		const text = values["min-secure-version"];
		minSecureVersion = Number(text);
		if (!/^\d+$/.test(text) || minSecureVersion > 32)
			return usage(output, "--min-secure-version must be an integer 0..32");
	}
	let chipRevision = 0;
	if (values["chip-revision"] !== undefined) {
		const match = /^v?(\d{1,2})\.(\d{1,2})$/.exec(values["chip-revision"]);
		if (!match)
			return usage(
				output,
				`--chip-revision must be a revision like v3.1, got ${JSON.stringify(values["chip-revision"])}`,
			);
		chipRevision = Number(match[1]) * 100 + Number(match[2]);
	}
	const approvedVersion = values["fw-version"];

	let capacity: number;
	let slotName: string;
	try {
		const slots = readPartitionTable(values.partitions ?? DEFAULT_PARTITIONS_FILE).otaSlots();
		if (slots.length === 0) throw new Error("the partition table has no OTA slots");
		const smallest = slots.reduce((a, b) => (b.size < a.size ? b : a));
		capacity = smallest.size;
		slotName = smallest.name;
	} catch (error) {
		output.err("rainmaker-ota-xs image: partition table: " + (error as Error).message);
		return 2;
	}

	let image: ImageReport;
	let running: (AppImageInfo & {chip: string}) | undefined;
	try {
		image = examine(positionals[0]);
		if (values.running !== undefined) {
			const report = examine(values.running);
			if (!report.info)
				throw new Error("running image " + values.running + ": " + (report.headerError ?? "no app descriptor"));
			running = report.info;
		}
	} catch (error) {
		output.err("rainmaker-ota-xs image: " + (error as Error).message);
		return 2;
	}

	// The node's order: header checks before anything is written, full verification at the end, the slot size while writing.
	let refusal: string | undefined;
	if (!image.info) refusal = "Failed to read image description: " + (image.headerError ?? "no app descriptor");
	else if (running) {
		refusal = checkUpgrade(
			image.info,
			running,
			minSecureVersion,
			{chipRevision, approvedVersion},
			{
				skipProjectCheck: values["skip-project-check"],
				skipVersionCheck: values["skip-version-check"],
				skipSecureVersionCheck: values["skip-secure-version-check"],
			},
		);
	}
	if (refusal === undefined && image.size > capacity)
		refusal = "Image of " + image.size + " bytes does not fit the " + capacity + "-byte OTA slot " + slotName;
	if (refusal === undefined && !image.valid) refusal = "Image validation failed: " + image.reason;
	const install = refusal === undefined;
	const judged = running
		? `against the running image, on a chip ${chipRevisionText(chipRevision)}` +
			(approvedVersion !== undefined ? `, for a job of version ${approvedVersion}` : "")
		: "format and size only (no --running image: project, identity, version, secure version and chip not compared)";

	if (values.json) {
		output.out(
			JSON.stringify(
				{
					...image,
					slot: {name: slotName, capacity},
					running: running ? {...running} : null,
					minSecureVersion,
					chipRevision: chipRevisionText(chipRevision),
					...(approvedVersion !== undefined ? {approvedVersion} : {}),
					verdict: {install, judged, ...(refusal !== undefined ? {reason: refusal} : {})},
				},
				null,
				2,
			),
		);
	} else printReport(output, image, running, slotName, capacity, install, refusal, judged);
	return install ? 0 : 1;
}

function usage(output: CommandOutput, problem: string): number {
	output.err("rainmaker-ota-xs image: " + problem);
	for (const line of IMAGE_USAGE) output.err(line);
	return 2;
}

/** Streams a file through the verifier (64 KiB at a time) and reads its header. Throws when the file cannot be read. */
function examine(path: string): ImageReport {
	let fd: number;
	try {
		fd = openSync(path, "r");
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new Error(
			`cannot read ${path} (${code === "ENOENT" ? "no such file" : code}): give the path of an app image (.bin)`,
			{cause: error},
		);
	}
	const verifier = new ImageVerifier(createDigest);
	const probe = new Uint8Array(HEADER_PROBE_LENGTH);
	let probeLength = 0;
	let size = 0;
	try {
		const block = new Uint8Array(64 * 1024);
		for (;;) {
			const n = readSync(fd, block, 0, block.length, null);
			if (n === 0) break;
			const chunk = block.subarray(0, n);
			if (probeLength < HEADER_PROBE_LENGTH) {
				const take = Math.min(n, HEADER_PROBE_LENGTH - probeLength);
				probe.set(chunk.subarray(0, take), probeLength);
				probeLength += take;
			}
			verifier.write(chunk);
			size += n;
		}
	} finally {
		closeSync(fd);
	}
	const verdict: ImageVerdict = verifier.end();
	const report: ImageReport = {
		file: path,
		size,
		valid: verdict.valid,
		expectedLength: verdict.expectedLength,
		trailingBytes: verdict.trailing,
		checksumValid: verdict.checksumValid,
		hashValid: verdict.hashValid,
	};
	if (verdict.reason !== undefined) report.reason = verdict.reason;
	if (verdict.sha256 !== undefined) report.validationHash = verdict.sha256;
	try {
		const info = parseImageHeader(probe.subarray(0, probeLength));
		report.info = {...info, chip: chipName(info.chipId)};
	} catch (error) {
		report.headerError = (error as Error).message;
	}
	return report;
}

function printReport(
	output: CommandOutput,
	image: ImageReport,
	running: (AppImageInfo & {chip: string}) | undefined,
	slotName: string,
	capacity: number,
	install: boolean,
	refusal: string | undefined,
	judged: string,
): void {
	const row = (name: string, value: string) => output.out((name + ":").padEnd(18) + value);
	row("file", image.file);
	row(
		"size",
		image.size +
			" bytes" +
			(image.expectedLength ? " (image " + image.expectedLength + ", trailing " + image.trailingBytes + ")" : ""),
	);
	const info = image.info;
	if (info) {
		row("chip", info.chip + " (chip_id " + info.chipId + ")");
		row("project", info.projectName);
		row(
			"identity",
			info.identity !== undefined
				? info.identity + " (at offset 288)"
				: "none (not an image of this firmware's builds)",
		);
		row("version", info.version);
		row("secure version", String(info.secureVersion));
		row("idf_ver", info.idfVer);
		row("compiled", info.date + " " + info.time);
		row("segments", String(info.segmentCount));
		row("entry", "0x" + info.entryAddr.toString(16));
		row(
			"chip revisions",
			chipRevisionText(info.minChipRevFull) +
				" .. " +
				(info.maxChipRevFull === 0 || info.maxChipRevFull === 0xffff
					? "any"
					: chipRevisionText(info.maxChipRevFull)),
		);
		row("app ELF SHA-256", info.appElfSha256);
	} else row("app descriptor", "unreadable: " + image.headerError);
	row("checksum", image.checksumValid ? "valid" : "invalid");
	row("SHA-256", info && !info.hashAppended ? "none appended" : image.hashValid ? "valid" : "invalid");
	if (image.reason) row("format", image.reason);
	if (image.trailingBytes > 0)
		row("note", image.trailingBytes + " bytes after the image (ignored by ESP-IDF's verification)");
	row("OTA slot", slotName + " (" + capacity + " bytes)");
	if (running)
		row(
			"running",
			running.projectName +
				" " +
				running.version +
				(running.identity !== undefined ? " [" + running.identity + "]" : "") +
				" (" +
				running.chip +
				", secure version " +
				running.secureVersion +
				")",
		);
	row("judged", judged);
	row("verdict", install ? "the node would install it" : "the node would refuse it: " + refusal);
}
