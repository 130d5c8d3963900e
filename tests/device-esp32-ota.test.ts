/*
 * The OTA core (ota/firmware.ts: update engine, rollback guard) on the ESP32 adapters
 * (device/esp32/update-partition.ts, device/esp32/boot-control.ts) over the "mc/ffi" stand-in of
 * native/otaplat_esp32.c and its esp_ota-style chip model, with the fast lane's in-memory MQTT and
 * HTTP and the virtual clock. Two things only the ESP32 adapters decide are checked here:
 * - a job with file_md5 is resumed with esp_ota_resume and its MD5 covers the whole written
 *   image (the kept bytes read back with esp_partition_read: UpdatePartition.read);
 * - after the old image booted again with an update pending, the update slot's otadata state
 *   (esp_ota_get_state_partition: BootControl.updateSlotState) tells a rollback from an
 *   interrupted switch.
 */
import {strict as assert} from "node:assert";
import {createHash} from "node:crypto";
import {createDigest} from "../host/adapters/digest";
import {VirtualTimers} from "../host/adapters/virtual-timers";
import {buildAppImage} from "../host/tools/app-image";
import {type Firmware, startFirmware} from "../ota/firmware";
import {SECTOR_SIZE} from "../ota/update-engine";
import {hostOtaOptions} from "../ota/options";
import type {BootControl, UpdatePartition} from "../ota/ports";
import {loadDevice} from "./support/moddable-loader";
import {chip, resetChip} from "./support/moddable/esp32-chip";
import {RecordingLog} from "./support/recording-log";
import {MemoryHttp} from "./unit/support/memory-http";
import {MemoryBroker} from "./unit/support/memory-mqtt";
import {FlakyStore, type Status} from "./unit/support/sim-node";

type PartitionModule = {OtaUpdatePartition: new () => UpdatePartition};
type BootModule = {FfiBootControl: new () => BootControl};

const SLOT = 0x1e0000;
/** The HTTP server cuts the first answer after this many bytes... */
const CUT = 100_000;
/** ...and the next attempt resumes at the last whole sector written (the failure saves it). */
const RESUME = Math.floor(CUT / SECTOR_SIZE) * SECTOR_SIZE;
const NODE = "esp32-node";
const V1 = buildAppImage({version: "1.0.0", payloadSize: 40_000});
const V2 = buildAppImage({version: "2.0.0", payloadSize: 150_000});
/** Same size and version as V2, other bytes: what a server could send for the first part. */
const OTHER = buildAppImage({version: "2.0.0", payloadSize: 150_000, secureVersion: 1});

function md5(bytes: Uint8Array): string {
	return createHash("md5").update(bytes).digest("hex");
}

/** The firmware on the ESP32 adapters; `powerOn` starts it again on the same store and chip (a reboot). */
class Esp32Node {
	readonly timers = new VirtualTimers();
	readonly broker = new MemoryBroker(this.timers);
	readonly http = new MemoryHttp(this.timers);
	readonly store = new FlakyStore();
	readonly log = new RecordingLog();
	job: object | undefined;
	firmware: Firmware | undefined;
	readonly #modules: {partition: PartitionModule; boot: BootModule};

	constructor(modules: {partition: PartitionModule; boot: BootModule}) {
		this.#modules = modules;
		this.broker.onPublish = message => {
			if (message.topic === `node/${NODE}/otafetch` && this.job)
				this.broker.publish(`node/${NODE}/otaurl`, JSON.stringify(this.job));
		};
	}

	powerOn(): void {
		this.firmware?.stop();
		this.firmware = startFirmware(
			{
				session: this.broker.session(NODE),
				timers: this.timers,
				log: this.log,
				store: this.store,
				http: this.http,
				partition: new this.#modules.partition.OtaUpdatePartition(),
				boot: new this.#modules.boot.FfiBootControl(),
				createDigest,
			},
			{
				nodeId: NODE,
				topicForm: "plain",
				ota: {startupFetchDelaySeconds: 0, requestFetchDelaySeconds: 0, rebootDelaySeconds: 0},
				otaDefaults: hostOtaOptions,
			},
		);
		this.timers.advance(0);
	}

	until(condition: () => boolean, what: string, limit = 3_600_000): void {
		for (let spent = 0; !condition(); spent += 100) {
			if (spent >= limit)
				throw new Error(
					`not reached within ${limit} ms of virtual time: ${what}\n${this.log.messages().slice(-15).join("\n")}`,
				);
			this.timers.advance(100);
		}
	}

	texts(jobId: string): string[] {
		return this.broker
			.on(`node/${NODE}/otastatus`)
			.map(message => JSON.parse(message.payload) as Status)
			.filter(status => status.ota_job_id === jobId)
			.map(status => `${status.status}: ${status.additional_info}`);
	}

	command(...args: string[]): string[] {
		const lines: string[] = [];
		this.firmware!.command("ota", args, line => lines.push(line));
		return lines;
	}

	/** Offers a job for V2 at `url` with its MD5, and approves it. */
	approve(jobId: string, url: string): void {
		this.job = {ota_job_id: jobId, url, fw_version: "2.0.0", file_size: V2.length, file_md5: md5(V2)};
		this.command("check");
		this.until(() => this.firmware?.ota.offer?.jobId === jobId, "the offer");
		assert.match(this.command("start")[0] ?? "", /approved/);
	}

	close(): void {
		this.firmware?.stop();
	}
}

describe("OTA core on the ESP32 adapters (FFI stand-in of native/otaplat_esp32.c)", () => {
	let modules: {partition: PartitionModule; boot: BootModule};
	let node: Esp32Node | undefined;

	before(async () => {
		modules = {
			partition: await loadDevice<PartitionModule>("esp32/update-partition"),
			boot: await loadDevice<BootModule>("esp32/boot-control"),
		};
	});
	beforeEach(() => {
		resetChip({running: V1, slotBytes: SLOT});
		node = new Esp32Node(modules);
	});
	afterEach(() => node?.close());

	describe("a job with file_md5, interrupted: esp_ota_resume and the MD5 over the whole image (UpdatePartition.read)", () => {
		it("resumes at the checkpoint, reads the kept bytes back for the MD5, and installs", () => {
			const url = "http://cloud.test/fw-resume.bin";
			node!.http.serve(url, {body: V2, cutAfter: CUT});
			node!.powerOn();
			node!.approve("job-resume", url);
			node!.until(() => chip.events.includes("restart"), "the reboot into the new image");
			assert.deepEqual(
				chip.otaCalls,
				["begin", `resume ${RESUME}`],
				"the second attempt kept the whole sectors of the first",
			);
			assert.ok(node!.log.messages().some(line => line.includes(`Resuming the download at byte ${RESUME}`)));
			assert.deepEqual(
				node!.http.requests.map(request => request.range),
				[undefined, `bytes=${RESUME}-`],
			);
			assert.equal(chip.bootPartition, "next");
			assert.deepEqual(chip.slot.subarray(0, V2.length), V2);
			const texts = node!.texts("job-resume");
			assert.match(
				texts.find(text => text.startsWith("failed"))!,
				/^failed: OTA Attempt 1\/3 failed/,
			);
			assert.equal(texts.filter(text => text.startsWith("failed")).length, 1, texts.join("\n"));
		});

		it("a resumed image whose kept part is not the job's fails on the MD5, before esp_ota_end, and nothing is installed", () => {
			const url = "http://cloud.test/fw-mixed.bin";
			node!.http.serve(url, {body: OTHER, cutAfter: CUT});
			node!.powerOn();
			node!.approve("job-mixed", url);
			node!.until(
				() => node!.texts("job-mixed").some(text => text.startsWith("failed: OTA Attempt 1/3")),
				"the cut attempt",
			);
			node!.http.serve(url, {body: V2}); // the rest comes from the job's image
			node!.until(
				() => node!.texts("job-mixed").some(text => text.startsWith("failed: OTA Attempt 2/3")),
				"the resumed attempt",
			);
			assert.deepEqual(chip.otaCalls.slice(0, 2), ["begin", `resume ${RESUME}`]);
			assert.match(
				node!.texts("job-mixed").find(text => text.startsWith("failed: OTA Attempt 2/3"))!,
				/MD5 mismatch/,
			);
			assert.equal(chip.bootPartition, "running", "the boot choice is unchanged");
			assert.ok(!chip.events.includes("restart"));
		});
	});

	describe("the old image booted again with an update pending (BootControl.updateSlotState)", () => {
		/** Installs V2 to the reboot request, then boots V1 again with the update slot in `slotState`. */
		function installThenBootOld(jobId: string, slotState: number): void {
			const url = `http://cloud.test/${jobId}.bin`;
			node!.http.serve(url, {body: V2});
			node!.powerOn();
			node!.approve(jobId, url);
			node!.until(() => chip.events.includes("restart"), "the reboot request");
			assert.equal(chip.updateSlotState, 0, "esp_ota_set_boot_partition gave the slot a NEW entry");
			// What the bootloader left: V1 runs (valid), the update slot in `slotState`.
			chip.bootPartition = "running";
			chip.runningState = 2;
			chip.updateSlotState = slotState;
			node!.powerOn();
		}

		for (const [name, code] of [
			["ESP_OTA_IMG_ABORTED (the bootloader gave up on it)", 4],
			["ESP_OTA_IMG_INVALID (the new image rolled itself back)", 3],
		] as const) {
			it(`update slot ${name}: rejected 'Firmware rolled back', the version is remembered as rolled back`, () => {
				installThenBootOld("job-rb", code);
				node!.until(() => node!.texts("job-rb").some(text => text.startsWith("rejected")), "the report");
				assert.equal(node!.texts("job-rb").at(-1), "rejected: Firmware rolled back");
				assert.equal(node!.firmware!.guard.rolledBackVersion, "2.0.0");
			});
		}

		it("no otadata entry selects the update slot (the switch was cut short): failed 'interrupted', the version stays eligible", () => {
			installThenBootOld("job-cut", -2);
			node!.until(() => node!.texts("job-cut").some(text => text.startsWith("failed")), "the report");
			assert.match(
				node!.texts("job-cut").find(text => text.startsWith("failed"))!,
				/^failed: Update to 2\.0\.0 interrupted: the new firmware never started/,
			);
			assert.ok(!node!.texts("job-cut").some(text => text.startsWith("rejected")));
			assert.equal(node!.firmware!.guard.rolledBackVersion, undefined);
			assert.ok(node!.log.messages().some(line => line.includes("(update slot: undefined)")));
		});
	});
});
