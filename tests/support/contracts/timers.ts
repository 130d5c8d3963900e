/*
 * The Timers contract (rainmaker/ports.ts), for every adapter: a timer runs once, never inside
 * set(), not before its delay on the adapter's own clock, in order of due time; a cleared timer
 * never runs; clearing undefined or a timer that already ran is harmless; now() is monotonic and
 * epoch() whole seconds.
 */
import {strict as assert} from "node:assert";
import type {Timers} from "../../../rainmaker/ports";

export interface TimersSubject {
	readonly timers: Timers;
	/** Lets time pass until `condition` holds: the real clock, or the virtual one advanced. */
	runUntil(condition: () => boolean, what: string): Promise<void>;
	/** Wall-clock seconds the adapter's epoch() should be near. */
	readonly expectedEpoch: () => number;
}

export function timersContract(name: string, subject: () => Promise<TimersSubject>): void {
	describe(`Timers contract (rainmaker/ports.ts): ${name}`, () => {
		let s: TimersSubject;
		before(async () => {
			s = await subject();
		});

		it("runs each timer once, after its delay, in order of due time; never inside set(); a cleared timer never runs", async () => {
			const {timers} = s;
			const fired: string[] = [];
			const late: string[] = [];
			const start = timers.now();
			const at = (label: string, ms: number) =>
				timers.set(() => {
					fired.push(label);
					// 1 ms of clock granularity: Node's timers count whole milliseconds of the loop's clock
					if (timers.now() - start < ms - 1) late.push(`${label} ran at ${timers.now() - start} ms`);
				}, ms);
			at("b", 30);
			at("a", 5);
			const cancelled = at("cancelled", 10);
			const zero = at("zero", 0);
			assert.equal(fired.length, 0, "nothing runs inside set()");
			timers.clear(cancelled);
			timers.clear(undefined);
			at("end", 40);
			await s.runUntil(() => fired.includes("end"), "the 40 ms timer");
			timers.clear(zero); // already ran: harmless
			assert.deepEqual(fired, ["zero", "a", "b", "end"]);
			assert.deepEqual(late, [], "no timer before its delay");
		});

		it("keeps now() monotonic and gives epoch() in whole seconds", async () => {
			const {timers} = s;
			const readings = [timers.now()];
			let ran = false;
			timers.set(() => (ran = true), 15);
			await s.runUntil(() => ran, "the 15 ms timer");
			readings.push(timers.now());
			// 1 ms of clock granularity
			assert.ok(readings[1] - readings[0] >= 14, `now() advanced ${readings[1] - readings[0]} ms`);
			const epoch = timers.epoch();
			assert.ok(Number.isInteger(epoch));
			assert.ok(Math.abs(epoch - s.expectedEpoch()) <= 2, `epoch ${epoch}`);
		});
	});
}
