/*
 * The lin platform (device/lin/platform.ts) on the FFI stand-in of native/otaplat_lin.c, which
 * works on the files of $RMX_FLASH_DIR like the C does: the flash file provisioned as
 * `rainmaker-ota-xs lin run` does it, the bootloader step at start, an update written with
 * esp_ota rules into ota_1 and selected NEW, the next start booting it PENDING_VERIFY, the
 * confirmation, the state in nvs.json surviving a restart, the fctry claim data, the console.
 */
import {strict as assert} from "node:assert";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {loadDevice} from "./support/moddable-loader";
import {resources} from "./support/moddable/Resource";
import {chip, resetChip} from "./support/moddable/esp32-chip";
import {consoleInput} from "./support/moddable/mc/ffi";
import {liveTimers} from "./support/moddable/timer";
import {traceLines} from "./support/moddable/trace";
import {provisionLinFlash} from "../host/sim/lin";
import {buildAppImage} from "../host/tools/app-image";
import {buildFctryImage} from "../host/tools/nvs-partition";
import {parseImageHeader} from "../ota/image";
import type {DevicePlatform} from "../device/platform";
import type {Log} from "../rainmaker/ports";

type PlatformModule = {openPlatform(log: Log): DevicePlatform};

const log = (lines: string[]): Log => ({
	info: line => lines.push(line),
	warn: line => lines.push(line),
	error: line => lines.push(line),
});

describe("lin platform (flash file through FFI, idf/ rules)", function () {
	this.timeout(60_000);
	let dir: string;
	let openPlatform: PlatformModule["openPlatform"];
	const v1 = buildAppImage({version: "1.0.0", payloadSize: 64 * 1024});
	const v2 = buildAppImage({version: "2.0.0", payloadSize: 64 * 1024});

	before(async () => {
		({openPlatform} = await loadDevice<PlatformModule>("lin/platform"));
		resources.set("partitions.csv", new Uint8Array(readFileSync(new URL("../partitions.csv", import.meta.url))));
	});
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), "lin-platform-"));
		process.env.RMX_FLASH_DIR = dir;
		resetChip({running: new Uint8Array(0), slotBytes: 0});
	});
	afterEach(() => {
		delete process.env.RMX_FLASH_DIR;
		rmSync(dir, {recursive: true, force: true});
	});

	it("refuses to start without RMX_FLASH_DIR, naming the command that sets it", () => {
		delete process.env.RMX_FLASH_DIR;
		assert.throws(
			() => openPlatform(log([])),
			/RMX_FLASH_DIR is not set: run the lin build with `rainmaker-ota-xs lin`/,
		);
	});

	it("boots ota_0, installs 2.0.0 into ota_1, boots it pending verification after the restart and confirms it", () => {
		provisionLinFlash(dir, {image: v1});
		const lines: string[] = [];
		const first = openPlatform(log(lines));
		assert.equal(first.target, "esp32");
		assert.equal(parseImageHeader(first.boot.runningHeader()).version, "1.0.0");
		assert.equal(first.boot.runningState(), "valid", "a freshly flashed device records ota_0 as VALID");
		assert.ok(
			lines.some(line => /Set actual ota_seq=1/.test(line)),
			lines.join("\n"),
		);
		assert.equal(first.partition.capacity, 0x1e0000, "the slot of partitions.csv");
		assert.equal(first.partition.begin(0), 0);
		for (let at = 0; at < v2.length; at += 1460) first.partition.write(v2.subarray(at, at + 1460));
		first.partition.end();
		first.boot.restart();
		assert.deepEqual(chip.events, ["restart"], "otaplat_restart (exit 3 in C)");

		const second = openPlatform(log(lines));
		assert.equal(parseImageHeader(second.boot.runningHeader()).version, "2.0.0");
		assert.equal(second.boot.runningState(), "pending-verify");
		assert.throws(
			() => second.partition.begin(0),
			/ESP_ERR_OTA_ROLLBACK_INVALID_STATE/,
			"no update before the new image confirms itself",
		);
		second.boot.markValid();
		assert.equal(second.boot.runningState(), "valid");
		const third = openPlatform(log(lines));
		assert.equal(parseImageHeader(third.boot.runningHeader()).version, "2.0.0");
		assert.equal(third.boot.runningState(), "valid");
	});

	it("an image that never confirmed is aborted by the next boot: the device comes back on 1.0.0", () => {
		provisionLinFlash(dir, {image: v1});
		const first = openPlatform(log([]));
		first.partition.begin(0);
		first.partition.write(v2);
		first.partition.end();
		openPlatform(log([])); // boots 2.0.0 PENDING_VERIFY, then "power cut" before it confirms
		const lines: string[] = [];
		const third = openPlatform(log(lines));
		assert.equal(parseImageHeader(third.boot.runningHeader()).version, "1.0.0");
		assert.ok(
			lines.some(line => /marking as ABORTED/.test(line)),
			lines.join("\n"),
		);
	});

	it("keeps the OTA state in nvs.json of the flash directory across restarts, with NVS limits", () => {
		provisionLinFlash(dir, {image: v1});
		const store = openPlatform(log([])).store;
		store.set("job_id", {type: "blob", value: Uint8Array.of(0x6a, 0x31)});
		store.set("offset", {type: "u16", value: 8});
		assert.throws(() => store.set("a_key_too_long_for_nvs", {type: "i32", value: 1}), /1\.\.15 characters/);
		assert.throws(() => store.set("float", {type: "i32", value: 1.5}), /does not fit NVS type i32/);
		assert.throws(() => store.set("big", {type: "u16", value: 65536}), /does not fit NVS type u16 \(0\.\.65535\)/);
		assert.deepEqual(JSON.parse(readFileSync(join(dir, "nvs.json"), "utf8")), {
			job_id: {t: "blob", v: "6a31"},
			offset: {t: "u16", v: 8},
		});
		const again = openPlatform(log([])).store;
		assert.deepEqual(again.get("job_id"), {type: "blob", value: Uint8Array.of(0x6a, 0x31)});
		assert.deepEqual(again.get("offset"), {type: "u16", value: 8}, "the type survives a restart");
		again.delete("job_id");
		assert.equal(openPlatform(log([])).store.get("job_id"), undefined);
	});

	it("reads the claim data of the fctry partition, and none from an unclaimed flash", () => {
		provisionLinFlash(dir, {image: v1});
		assert.equal(openPlatform(log([])).readClaim(), undefined);
		provisionLinFlash(dir, {
			fctry: buildFctryImage({
				nodeId: "lin-7",
				mqttHost: "mqtt.example.com",
				clientCert: "CERT",
				clientKey: "KEY",
			}),
		});
		const claim = openPlatform(log([])).readClaim();
		assert.equal(claim?.nodeId, "lin-7");
		assert.equal(claim?.mqttHost, "mqtt.example.com");
		assert.equal(claim?.clientKey, "KEY");
	});

	it("runs console lines from standard input and refuses telnet (the lin Listener binds every interface)", async () => {
		provisionLinFlash(dir, {image: v1});
		const platform = openPlatform(log([]));
		assert.equal(platform.telnetAllowed, false);
		const seen: string[] = [];
		traceLines.length = 0;
		const timersBefore = new Set(liveTimers);
		// Each wait below is for a read of the poll (an event of the FFI stand-in), not for time.
		const nextRead = (accept: (result: number) => boolean) =>
			new Promise<number>(resolve => {
				consoleInput.onRead = result => {
					if (accept(result)) {
						consoleInput.onRead = undefined;
						resolve(result);
					}
				};
			});
		try {
			platform.openLocalConsole!((line, print) => {
				seen.push(line);
				print(`ran ${line}`);
			});
			const poll = [...liveTimers].filter(timer => !timersBefore.has(timer));
			assert.equal(poll.length, 1, "one poll timer");
			consoleInput.text = "ota status\n  \nota ch";
			await nextRead(result => result > 0 && consoleInput.text === "");
			assert.deepEqual(seen, ["ota status"], "a blank line is skipped, a partial line waits for its end");
			consoleInput.text += "eck\n";
			await nextRead(result => result > 0 && consoleInput.text === "");
			assert.deepEqual(seen, ["ota status", "ota check"]);
			assert.ok(traceLines.includes("ran ota status\n"));
			consoleInput.ended = true; // end of input: the poll stops
			assert.equal(await nextRead(() => true), -1);
			assert.equal(liveTimers.has(poll[0]), false, "the poll timer is cleared at the end of input");
		} finally {
			consoleInput.onRead = undefined;
			consoleInput.ended = false;
		}
	});
});
