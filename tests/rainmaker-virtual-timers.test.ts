import assert from "node:assert/strict";
import {HostTimers} from "../host/adapters/timers";
import {VirtualTimers} from "../host/adapters/virtual-timers";

describe("timers adapters", () => {
	it("VirtualTimers runs due timers in order of due time, then creation, only when advanced", () => {
		const timers = new VirtualTimers(1000);
		const runs: string[] = [];
		timers.set(() => runs.push(`b@${timers.now()}`), 200);
		timers.set(() => runs.push(`a@${timers.now()}`), 100);
		timers.set(() => runs.push(`c@${timers.now()}`), 200);
		const cancelled = timers.set(() => runs.push("cancelled"), 150);
		timers.clear(cancelled);
		timers.clear(undefined);
		assert.deepEqual(timers.pending(), [100, 200, 200]);
		timers.advance(99);
		assert.deepEqual(runs, []);
		timers.advance(101);
		assert.deepEqual(runs, ["a@100", "b@200", "c@200"]);
		assert.equal(timers.now(), 200);
		assert.deepEqual(timers.pending(), []);
	});

	it("VirtualTimers runs timers set by a callback within the same advance and keeps the epoch", () => {
		const timers = new VirtualTimers(1_700_000_000);
		const runs: number[] = [];
		const tick = () => {
			runs.push(timers.now());
			if (runs.length < 5) timers.set(tick, 1000);
		};
		timers.set(tick, 1000);
		timers.advance(3500);
		assert.deepEqual(runs, [1000, 2000, 3000]);
		assert.equal(timers.now(), 3500);
		assert.equal(timers.epoch(), 1_700_000_003);
		timers.advance(10_000);
		assert.deepEqual(runs, [1000, 2000, 3000, 4000, 5000]);
		assert.equal(timers.epoch(), 1_700_000_013);
	});

	it("HostTimers fires, cancels and reads the clocks", async () => {
		const timers = new HostTimers();
		const start = timers.now();
		const fired: string[] = [];
		const cancelled = timers.set(() => fired.push("cancelled"), 1);
		timers.clear(cancelled);
		await new Promise<void>(resolve =>
			timers.set(() => {
				fired.push("fired");
				resolve();
			}, 5),
		);
		assert.deepEqual(fired, ["fired"]);
		assert.ok(timers.now() - start >= 4);
		assert.ok(Math.abs(timers.epoch() - Date.now() / 1000) < 2);
	});
});
