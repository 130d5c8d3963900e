/*
 * Peak XS memory of the running firmware, for the measurement in docs/device.md ("Memory"): with
 * config memoryReport=true in an instrumented (-i) or debug build, Moddable's `instrumentation`
 * module reports the XS chunk heap used, the slot heap used (bytes) and the stack used (bytes, the
 * deepest since start). The chunk and slot figures are current values, garbage included (XS
 * collects only when a heap is full), so each sample is taken twice: as it is ("used") and after a
 * collection (Debug.gc(): "live", what the heaps must hold). Samples are taken after every HTTP
 * body piece (the download's heaviest moments) and in every turn of a short timer; the maxima are
 * kept. In release builds the module returns undefined: nothing is measured.
 */
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";
import type {BootControl, HttpClient, HttpHandlers, HttpRequest} from "../ota/ports";
import type {Log} from "../rainmaker/ports";

export interface MemoryPeaks {
	/** After a collection: the chunk and slot heap bytes the firmware really holds. */
	liveChunkBytes: number;
	liveSlotBytes: number;
	/** Bytes of the XS chunk heap in use (strings, buffers, byte code of RAM modules, ...). */
	chunkBytes: number;
	/** Bytes of the XS slot heap in use (slots are 32 bytes on 64-bit lin, 16 on the ESP32). */
	slotBytes: number;
	/** Deepest stack use since start, in bytes. */
	stackBytes: number;
	samples: number;
}

export class MemoryMeter {
	readonly peaks: MemoryPeaks = {
		liveChunkBytes: 0,
		liveSlotBytes: 0,
		chunkBytes: 0,
		slotBytes: 0,
		stackBytes: 0,
		samples: 0,
	};
	readonly #chunk = Instrumentation.map("XS Chunk Heap Used");
	readonly #slot = Instrumentation.map("XS Slot Heap Used");
	readonly #stack = Instrumentation.map("XS Stack Used");

	/** Whether this build reports XS memory (instrumented and debug builds). */
	get available(): boolean {
		return Instrumentation.get(this.#chunk) !== undefined;
	}

	sample(): void {
		const chunk = Instrumentation.get(this.#chunk);
		if (chunk === undefined) return;
		const peaks = this.peaks;
		peaks.samples++;
		peaks.chunkBytes = Math.max(peaks.chunkBytes, chunk);
		peaks.slotBytes = Math.max(peaks.slotBytes, Instrumentation.get(this.#slot) ?? 0);
		peaks.stackBytes = Math.max(peaks.stackBytes, Instrumentation.get(this.#stack) ?? 0);
		Debug.gc();
		peaks.liveChunkBytes = Math.max(peaks.liveChunkBytes, Instrumentation.get(this.#chunk) ?? 0);
		peaks.liveSlotBytes = Math.max(peaks.liveSlotBytes, Instrumentation.get(this.#slot) ?? 0);
	}

	/** Samples every `intervalMs` and logs the peaks every `reportMs` when they changed. */
	start(log: Log, intervalMs = 20, reportMs = 5000): void {
		let reported = "";
		let elapsed = 0;
		Timer.repeat(() => {
			this.sample();
			elapsed += intervalMs;
			if (elapsed >= reportMs) {
				elapsed = 0;
				const line = this.describe();
				if (line !== reported) {
					reported = line;
					log.info(line);
				}
			}
		}, intervalMs);
	}

	describe(): string {
		const {liveChunkBytes, liveSlotBytes, chunkBytes, slotBytes, stackBytes, samples} = this.peaks;
		return `memory peaks: live chunk heap ${liveChunkBytes} bytes, live slot heap ${liveSlotBytes} bytes; used chunk heap ${chunkBytes} bytes, used slot heap ${slotBytes} bytes; stack ${stackBytes} bytes (${samples} samples)`;
	}

	/** An HttpClient that samples after every body piece it hands on. */
	metered(inner: HttpClient): HttpClient {
		const meter = this;
		return {
			get(url: string, headers: ReadonlyArray<readonly [string, string]>, handlers: HttpHandlers): HttpRequest {
				return inner.get(url, headers, {
					onHeaders: (status, header) => handlers.onHeaders(status, header),
					onData: chunk => {
						handlers.onData(chunk);
						meter.sample();
					},
					onDone: error => {
						meter.sample();
						handlers.onDone(error);
					},
				});
			},
		};
	}

	/**
	 * A BootControl that logs the peaks before each restart and keeps every member of `inner`,
	 * the optional ones too (without updateSlotState an interrupted switch reads as a rollback).
	 */
	meteredBoot(inner: BootControl, log: Log): BootControl {
		const boot: BootControl = {
			runningState: () => inner.runningState(),
			runningHeader: () => inner.runningHeader(),
			chipRevision: () => inner.chipRevision(),
			minSecureVersion: () => inner.minSecureVersion(),
			markValid: () => inner.markValid(),
			rollback: () => inner.rollback(),
			restart: () => {
				this.sample();
				log.info(this.describe());
				inner.restart();
			},
			...(inner.platform !== undefined && {platform: inner.platform}),
		};
		if (inner.updateSlotState) boot.updateSlotState = () => inner.updateSlotState!();
		if (inner.runningSlot) boot.runningSlot = () => inner.runningSlot!();
		return boot;
	}
}
