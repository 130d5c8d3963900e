/*
 * The `image` command: facts and verdicts as JSON over every fixture against app-1.0.0, refusals of
 * derived corrupt files, usage errors, and once through the package bin as a child process.
 */
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {imageCommand} from "../host/cli/image-command";
import {FIRMWARE_NAME} from "../host/tools/firmware-identity";
import {fixture, fixtureCopy, fixtureImage, fixtures, withByte, type FixtureFacts} from "./support/image-fixtures";
import {COMMAND} from "./support/command";

interface Run {
	code: number;
	out: string;
	err: string;
}

function run(argv: string[]): Run {
	const out: string[] = [];
	const err: string[] = [];
	const code = imageCommand(argv, {out: line => out.push(line), err: line => err.push(line)});
	return {code, out: out.join("\n"), err: err.join("\n")};
}

const runningPath = "synthetic/app-1.0.0.bin";
const running = fixture(runningPath);

/** The node's verdict from the facts alone (docs/protocol.md §5.12 order), for a running app-1.0.0 on an esp32 with eFuse secure version 0. */
function expectedRefusal(facts: FixtureFacts): string | undefined {
	if (facts.project_name !== running.project_name) return "Project Name mismatch";
	if (facts.version === running.version) return "Same version received";
	if (facts.chip_id !== running.chip_id)
		return `Chip revision mismatch (the image is for ${facts.chip}, this chip is ${running.chip})`;
	return undefined;
}

describe("image command", () => {
	let dir: string;
	before(() => {
		dir = mkdtempSync(join(tmpdir(), "rmota-image-"));
	});
	after(() => {
		rmSync(dir, {recursive: true, force: true});
	});
	const write = (name: string, bytes: Uint8Array) => {
		const path = join(dir, name);
		writeFileSync(path, bytes);
		return path;
	};

	for (const facts of fixtures) {
		it(`reports ${facts.path} and the node's verdict against ${runningPath}`, () => {
			const result = run([fixtureImage(facts.path), "--running", fixtureImage(runningPath), "--json"]);
			const refusal = expectedRefusal(facts);
			assert.equal(result.code, refusal === undefined ? 0 : 1, result.err);
			const report = JSON.parse(result.out);
			assert.equal(report.size, facts.size);
			assert.equal(report.valid, true);
			assert.equal(report.checksumValid, facts.checksum_valid);
			assert.equal(report.hashValid, facts.validation_hash_valid);
			assert.equal(report.validationHash, facts.validation_hash);
			assert.equal(report.trailingBytes, 0);
			assert.equal(report.info.chip, facts.chip);
			assert.equal(report.info.chipId, facts.chip_id);
			assert.equal(report.info.projectName, facts.project_name);
			assert.equal(report.info.version, facts.version);
			assert.equal(report.info.secureVersion, facts.secure_version);
			assert.equal(report.info.idfVer, facts.idf_ver);
			assert.equal(report.info.segmentCount, facts.segment_count);
			assert.equal(report.running.version, running.version);
			assert.equal(report.verdict.install, refusal === undefined);
			assert.equal(report.verdict.reason, refusal);
		});
	}

	it("judges the format only without --running, and says so", () => {
		const result = run([fixtureImage("synthetic/app-2.0.0-esp32s3.bin"), "--json"]);
		assert.equal(result.code, 0);
		const report = JSON.parse(result.out);
		assert.equal(report.running, null);
		assert.match(report.verdict.judged, /format and size only/);
		const text = run([fixtureImage("synthetic/app-2.0.0.bin")]);
		assert.equal(text.code, 0);
		assert.match(text.out, /version:\s+2\.0\.0/);
		assert.match(text.out, /checksum:\s+valid/);
		assert.match(text.out, /the node would install it/);
	});

	it("applies the eFuse minimum and the skip options", () => {
		const secure2 = fixtureImage("synthetic/app-3.0.0-secure2.bin");
		const refused = run([secure2, "--running", fixtureImage(runningPath), "--min-secure-version", "3", "--json"]);
		assert.equal(refused.code, 1);
		assert.equal(JSON.parse(refused.out).verdict.reason, "Lower secure version received");
		assert.equal(
			run([
				secure2,
				"--running",
				fixtureImage(runningPath),
				"--min-secure-version",
				"3",
				"--skip-secure-version-check",
			]).code,
			0,
		);
		assert.equal(
			run([
				fixtureImage("synthetic/app-other-project.bin"),
				"--running",
				fixtureImage(runningPath),
				"--skip-project-check",
			]).code,
			0,
		);
		assert.equal(
			run([fixtureImage(runningPath), "--running", fixtureImage(runningPath), "--skip-version-check"]).code,
			0,
		);
	});

	it("refuses corrupt and truncated files with the reason, exit code 1", () => {
		const image = fixtureCopy("synthetic/app-2.0.0.bin");
		const cases: [string, Uint8Array, RegExp][] = [
			[
				"bad-hash.bin",
				withByte(image, image.length - 1, image[image.length - 1] ^ 1),
				/Image validation failed: SHA-256 mismatch/,
			],
			[
				"bad-checksum.bin",
				withByte(image, image.length - 33, image[image.length - 33] ^ 1),
				/Image validation failed: checksum mismatch/,
			],
			["truncated.bin", image.subarray(0, image.length - 1), /Image validation failed: truncated image/],
			["short.bin", image.subarray(0, 100), /Failed to read image description: Image too short/],
			["magic.bin", withByte(image, 0, 0), /Failed to read image description: Not an ESP32 application image/],
			["empty.bin", new Uint8Array(0), /Failed to read image description/],
		];
		for (const [name, bytes, reason] of cases) {
			const result = run([write(name, bytes), "--running", fixtureImage(runningPath), "--json"]);
			assert.equal(result.code, 1, name);
			const report = JSON.parse(result.out);
			assert.equal(report.verdict.install, false);
			assert.match(report.verdict.reason, reason, name);
		}
	});

	it("reports bytes after the image and still installs it, as esp_ota_end would", () => {
		const image = fixtureCopy("synthetic/app-2.0.0.bin");
		const longer = new Uint8Array(image.length + 10);
		longer.set(image);
		const result = run([write("trailing.bin", longer), "--running", fixtureImage(runningPath)]);
		assert.equal(result.code, 0);
		assert.match(result.out, /10 bytes after the image/);
	});

	it("refuses an image larger than the OTA slot of the partition table", () => {
		const csv =
			"nvs,data,nvs,0x9000,0x5000\notadata,data,ota,0xe000,0x2000\nota_0,app,ota_0,0x10000,0x10000\nota_1,app,ota_1,0x20000,0x10000\n";
		const table = join(dir, "small.csv");
		writeFileSync(table, csv);
		const result = run([fixtureImage("synthetic/app-2.0.0.bin"), "--partitions", table, "--json"]);
		assert.equal(result.code, 1);
		assert.match(JSON.parse(result.out).verdict.reason, /does not fit the 65536-byte OTA slot ota_0/);
	});

	it("exits 2 on usage errors and unreadable files, with a message", () => {
		for (const argv of [
			[],
			["a", "b"],
			["--bogus", fixtureImage(runningPath)],
			[fixtureImage(runningPath), "--min-secure-version", "x"],
			[join(dir, "missing.bin")],
			[fixtureImage(runningPath), "--running", join(dir, "missing.bin")],
			[fixtureImage(runningPath), "--partitions", join(dir, "missing.csv")],
		]) {
			const result = run(argv);
			assert.equal(result.code, 2, JSON.stringify(argv));
			assert.match(result.err, /rainmaker-ota-xs image: /);
		}
	});

	it("exits 2 when the running image has no app descriptor", () => {
		const result = run([
			fixtureImage("synthetic/app-2.0.0.bin"),
			"--running",
			write("running-magic.bin", withByte(fixtureCopy(runningPath), 0x20, 0)),
		]);
		assert.equal(result.code, 2);
		assert.match(result.err, /running image/);
	});

	it("shows the firmware identity and judges it, the approved version (--fw-version) and the chip revision (--chip-revision)", () => {
		const v1 = join(dir, "identity", "v1.bin");
		const v2 = join(dir, "identity", "v2.bin");
		const otherApp = join(dir, "identity", "other-app.bin");
		const newChip = join(dir, "identity", "new-chip.bin");
		for (const [file, args] of [
			[v1, ["--version", "1.0.0"]],
			[v2, ["--version", "2.0.0"]],
			[otherApp, ["--version", "8.0.0", "--identity", "none"]],
			[newChip, ["--version", "3.0.0"]],
		] as const) {
			const made = run(["make", file, ...args]);
			assert.equal(made.code, 0, made.err);
			assert.match(made.out, file === otherApp ? /no identity/ : new RegExp(`identity ${FIRMWARE_NAME}`));
		}
		const text = run([v2, "--running", v1]);
		assert.equal(text.code, 0, text.out);
		assert.match(text.out, new RegExp(`identity:\\s+${FIRMWARE_NAME} \\(at offset 288\\)`));
		assert.match(text.out, new RegExp(`running:\\s+rainmaker-ota-xs 1\\.0\\.0 \\[${FIRMWARE_NAME}\\]`));
		assert.equal(JSON.parse(run([v2, "--json"]).out).info.identity, FIRMWARE_NAME);
		assert.match(run([fixtureImage(runningPath)]).out, /identity:\s+none/);
		const foreign = run([otherApp, "--running", v1, "--json"]);
		assert.equal(foreign.code, 1);
		assert.equal(
			JSON.parse(foreign.out).verdict.reason,
			`Project Name mismatch: rainmaker-ota-xs 8.0.0 is another app (no ${FIRMWARE_NAME} identity at offset 288)`,
		);
		const labelled = run([v2, "--running", v1, "--fw-version", "1.0.1-security", "--json"]);
		assert.equal(labelled.code, 1);
		assert.equal(
			JSON.parse(labelled.out).verdict.reason,
			"Version mismatch: the image is 2.0.0, the approved job is 1.0.1-security",
		);
		assert.equal(run([v2, "--running", v1, "--fw-version", "2.0.0"]).code, 0);
		// made images claim chip revisions v0.0 .. v3.99 (an ESP-IDF v5 esp32 build's)
		const tooNew = run([newChip, "--running", v1, "--chip-revision", "v4.0", "--json"]);
		assert.equal(tooNew.code, 1);
		assert.equal(
			JSON.parse(tooNew.out).verdict.reason,
			"Chip revision mismatch (the image supports up to v3.99, this chip is v4.0)",
		);
		assert.equal(run([newChip, "--running", v1, "--chip-revision", "v3.1"]).code, 0);
		assert.equal(run([v2, "--running", v1, "--chip-revision", "3"]).code, 2);
	});

	it("image make writes the fixture images byte for byte, and an image of any version the node judges", () => {
		const made = run(["make", "--fixtures", join(dir, "made")]);
		assert.equal(made.code, 0, made.err);
		for (const facts of fixtures.filter(f => f.path.startsWith("synthetic/")))
			assert.ok(
				readFileSync(join(dir, "made", facts.path)).equals(readFileSync(fixtureImage(facts.path))),
				facts.path,
			);
		const one = join(dir, "new-folder", "app-7.0.0.bin");
		assert.equal(run(["make", one, "--version", "7.0.0", "--secure-version", "1", "--size", "8192"]).code, 0);
		const report = run([one, "--running", fixtureImage(runningPath), "--json"]);
		assert.equal(report.code, 0, report.err);
		const json = JSON.parse(report.out);
		assert.deepEqual(
			[json.valid, json.info.version, json.info.secureVersion, json.info.segmentCount],
			[true, "7.0.0", 1, 5],
		);
		for (const argv of [
			["make"],
			["make", one],
			["make", one, "--version", "1", "--chip", "esp8266"],
			["make", one, "--version", "1", "--size", "3"],
			["make", "--fixtures", dir, one],
		]) {
			const refused = run(argv);
			assert.equal(refused.code, 2, argv.join(" "));
			assert.match(refused.err, /^rainmaker-ota-xs image make: /);
		}
	});

	it("runs through the package bin as a child process", function () {
		this.timeout(60000);
		const node = (args: string[]) => spawnSync(process.execPath, [COMMAND, ...args], {encoding: "utf8"});
		const ok = node([
			"image",
			fixtureImage("synthetic/app-1.1.0.bin"),
			"--running",
			fixtureImage(runningPath),
			"--json",
		]);
		assert.equal(ok.status, 0, ok.stderr);
		assert.equal(JSON.parse(ok.stdout).info.version, "1.1.0");
		const refused = node([
			"image",
			fixtureImage("synthetic/app-2.0.0-esp32s3.bin"),
			"--running",
			fixtureImage(runningPath),
		]);
		assert.equal(refused.status, 1);
		assert.match(refused.stdout, /Chip revision mismatch/);
		const unknown = node(["bogus"]);
		assert.equal(unknown.status, 2);
		assert.match(unknown.stderr, /unknown command "bogus"/);
	});
});
