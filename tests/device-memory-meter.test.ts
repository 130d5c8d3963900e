/*
 * device/memory-meter.ts on the instrumentation stand-in: peaks of the used and live (after a
 * collection) XS heaps and of the stack, sampled after every download piece; nothing in a build
 * without instrumentation.
 */
import {strict as assert} from "node:assert";
import {loadDevice} from "./support/moddable-loader";
import {instrumentationValues} from "./support/moddable/instrumentation";
import type {BootControl, HttpClient, HttpHandlers, ImageState} from "../ota/ports";
import type {Log} from "../rainmaker/ports";

type MeterModule = {
	MemoryMeter: new () => {
		readonly available: boolean;
		readonly peaks: {
			liveChunkBytes: number;
			liveSlotBytes: number;
			chunkBytes: number;
			slotBytes: number;
			stackBytes: number;
			samples: number;
		};
		sample(): void;
		describe(): string;
		metered(inner: HttpClient): HttpClient;
		meteredBoot(inner: BootControl, log: Log): BootControl;
	};
};

describe("device memory meter (instrumentation stand-in)", () => {
	let MemoryMeter: MeterModule["MemoryMeter"];
	before(async () => {
		({MemoryMeter} = await loadDevice<MeterModule>("memory-meter"));
	});
	afterEach(() => instrumentationValues.clear());

	it("measures nothing in a release build (instrumentation answers undefined)", () => {
		const meter = new MemoryMeter();
		assert.equal(meter.available, false);
		meter.sample();
		assert.equal(meter.peaks.samples, 0);
	});

	it("keeps the highest chunk, slot and stack figures, sampling after every piece a metered client hands on", () => {
		const meter = new MemoryMeter();
		const set = (chunk: number, slot: number, stack: number) => {
			instrumentationValues.set("XS Chunk Heap Used", chunk);
			instrumentationValues.set("XS Slot Heap Used", slot);
			instrumentationValues.set("XS Stack Used", stack);
		};
		set(1000, 2000, 300);
		assert.equal(meter.available, true);
		let handlers: HttpHandlers | undefined;
		const inner: HttpClient = {
			get: (_url, _headers, h) => {
				handlers = h;
				return {abort() {}};
			},
		};
		const seen: number[] = [];
		meter
			.metered(inner)
			.get("http://x/", [], {onHeaders: () => true, onData: chunk => seen.push(chunk.length), onDone: () => {}});
		handlers!.onData(new Uint8Array(10));
		set(5000, 1500, 900);
		handlers!.onData(new Uint8Array(20));
		set(3000, 7000, 100);
		handlers!.onDone();
		assert.deepEqual(seen, [10, 20]);
		assert.equal(meter.peaks.samples, 3);
		assert.equal(meter.peaks.chunkBytes, 5000);
		assert.equal(meter.peaks.slotBytes, 7000);
		assert.equal(meter.peaks.stackBytes, 900);
		assert.match(
			meter.describe(),
			/used chunk heap 5000 bytes, used slot heap 7000 bytes; stack 900 bytes \(3 samples\)/,
		);
	});

	it("keeps every member of the boot control it wraps, the optional updateSlotState, runningSlot and platform too", () => {
		const calls: string[] = [];
		const slot: ImageState = "undefined";
		const inner: BootControl = {
			runningState: () => "valid",
			runningHeader: () => new Uint8Array(328),
			chipRevision: () => 3,
			minSecureVersion: () => 0,
			markValid: () => void calls.push("markValid"),
			rollback: () => void calls.push("rollback"),
			restart: () => void calls.push("restart"),
			updateSlotState: () => slot,
			runningSlot: () => "ota_1",
			platform: "esp32c3",
		};
		const lines: string[] = [];
		const log = {info: (line: string) => lines.push(line), warn: () => {}, error: () => {}} as unknown as Log;
		const boot = new MemoryMeter().meteredBoot(inner, log);
		assert.equal(boot.updateSlotState?.(), "undefined");
		assert.equal(boot.platform, "esp32c3");
		assert.equal(boot.runningSlot?.(), "ota_1");
		assert.equal(boot.chipRevision(), 3);
		boot.restart();
		assert.deepEqual(calls, ["restart"]);
		assert.match(lines.join("\n"), /memory peaks/);
		const bare = new MemoryMeter().meteredBoot(
			{...inner, updateSlotState: undefined, runningSlot: undefined, platform: undefined},
			log,
		);
		assert.equal(bare.updateSlotState, undefined, "no updateSlotState where the platform has none");
		assert.equal(bare.runningSlot, undefined, "no runningSlot where the platform has none");
		assert.equal("platform" in bare, false);
	});
});
