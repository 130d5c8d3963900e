/*
 * The QEMU lane (docs/device.md, section 11): the flash image and otadata read-back of host/sim/qemu.ts
 * always; the whole `rainmaker-ota-xs qemu demo` (ESP-IDF build, ESP-IDF's bootloader, QEMU's esp32c3
 * machine) only where MODDABLE, IDF_PATH, the toolchain and QEMU_BIN are present, else skipped with
 * the reason printed.
 */
import {strict as assert} from "node:assert";
import {spawnSync} from "node:child_process";
import {fileURLToPath} from "node:url";
import {freeHeapDuringInstall, otadataOf, parseIdfBenchLine, qemuFlashImage, qemuTools} from "../host/sim/qemu";
import {buildIdfImage} from "../host/tools/app-image";
import {encodeEntry, newEntry, OtaImgState} from "../idf/otadata";
import {COMMAND} from "./support/command";

describe("QEMU lane", () => {
	it("lays out the 4 MB flash: bootloader at 0, partition table, blank otadata, fctry at 0x11000, the app in ota_0", () => {
		const app = buildIdfImage({version: "1.0.0"});
		const build = {
			bootloader: new Uint8Array(100).fill(1),
			partitionTable: new Uint8Array(0xc00).fill(2),
			app,
			offsets: {bootloader: 0, partitionTable: 0x8000, app: 0x20000},
		};
		const flash = qemuFlashImage(build, app, new Uint8Array(0x6000).fill(3));
		assert.equal(flash.length, 4 * 1024 * 1024);
		assert.equal(flash[0], 1);
		assert.equal(flash[0x8000], 2);
		assert.ok(
			flash.subarray(0xe000, 0x10000).every(byte => byte === 0xff),
			"otadata blank: ESP-IDF's bootloader boots ota_0",
		);
		assert.equal(flash[0x11000], 3);
		assert.deepEqual(flash.subarray(0x20000, 0x20000 + app.length), app);
		assert.equal(otadataOf(flash), undefined);
	});

	it("reads back which slot otadata selects, and its state", () => {
		const flash = new Uint8Array(4 * 1024 * 1024).fill(0xff);
		flash.set(encodeEntry(newEntry(1, OtaImgState.VALID)), 0xe000);
		flash.set(encodeEntry(newEntry(2, OtaImgState.PENDING_VERIFY)), 0xf000);
		assert.deepEqual(otadataOf(flash), {slot: 1, state: "pending-verify"});
	});

	it("reads the figures of ESP-IDF's OTA app (bench/qemu-idf-ota) from its result line, and only a success into ota_1", () => {
		const line =
			"BENCH: esp_https_ota ESP_OK (0) in 11791 ms (begin 809 ms, perform 10887 ms, finish 94 ms); boot partition ota_1; free internal heap before 298292, minimum 255312, after 297136";
		assert.deepEqual(parseIdfBenchLine(line), {
			ms: 11791,
			beginMs: 809,
			performMs: 10887,
			finishMs: 94,
			heapBefore: 298292,
			heapMinimum: 255312,
			heapAfter: 297136,
		});
		assert.equal(parseIdfBenchLine(line.replace("ota_1", "ota_0")), undefined);
		assert.equal(parseIdfBenchLine(line.replace("ESP_OK (0)", "ESP_ERR_OTA_VALIDATE_FAILED (5379)")), undefined);
	});

	it("finds the free heap before and the lowest during the install in an instrumented build's console", () => {
		const lines = [
			"instruments key: Pixels drawn,Turns,System bytes free,CPU",
			"instruments: 0,11,82516,11",
			"instruments: 0,75,80796,13",
			"OTA status in-progress: Starting OTA Upgrade (HTTPS attempt 1/3) (job job_1)",
			"instruments: 0,58,73772,53",
			"instruments: 0,118,75332,98",
			"OTA status in-progress: Rebooting into new firmware (after 1 HTTPS attempt) (job job_1)",
			"instruments: 0,81,70000,49",
		];
		assert.deepEqual(freeHeapDuringInstall(lines), {before: 80796, lowest: 73772, samples: 2});
		assert.equal(freeHeapDuringInstall(lines.slice(1)), undefined, "no key line: a release build");
	});

	it("names the missing tool in one line", () => {
		assert.match(String(qemuTools({})), /^MODDABLE is not set/);
		assert.match(String(qemuTools({MODDABLE: "/nonexistent"})), /MODDABLE/);
	});

	describe("the firmware in QEMU (needs MODDABLE, IDF_PATH, riscv32-esp-elf-gcc, QEMU_BIN)", function () {
		before(function () {
			const tools = qemuTools();
			if (typeof tools === "string") {
				console.log(`      skipped: ${tools} (docs/device.md, section 11)`);
				this.skip();
			}
		});

		it("updates 1.0.0 to 2.0.0 with approval and reports success from ota_1 (rainmaker-ota-xs qemu demo)", function () {
			this.timeout(60 * 60_000); // builds the firmware with ESP-IDF first
			const repository = fileURLToPath(new URL("..", import.meta.url));
			const result = spawnSync(process.execPath, [COMMAND, "qemu", "demo"], {
				cwd: repository,
				encoding: "utf8",
				maxBuffer: 256 * 1024 * 1024,
				timeout: 59 * 60_000,
			});
			const output = `${result.stdout}${result.stderr}`;
			assert.equal(result.status, 0, output.split("\n").slice(-60).join("\n"));
			assert.match(
				output,
				/\[qemu\] done: qemu-node reported success .*; it runs 2\.0\.0; otadata selects ota_1 \(valid\)/,
			);
		});
	});
});
