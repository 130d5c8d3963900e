/*
 * A controllable clock implementing the Timers port, for tests: nothing runs until the test calls
 * `advance`, which runs the due timers in order of due time (ties in order of creation), with
 * `now()` set to each timer's due time while it runs.
 */
import type {TimerHandle, Timers} from "../../rainmaker/ports";

interface VirtualTimer extends TimerHandle {
	due: number;
	sequence: number;
	callback: () => void;
}

export class VirtualTimers implements Timers {
	#current = 0;
	#sequence = 0;
	readonly #timers = new Set<VirtualTimer>();
	readonly #startEpoch: number;

	/** `startEpoch`: wall-clock seconds at time 0 (default 2026-01-01T00:00:00Z). */
	constructor(startEpoch = 1767225600) {
		this.#startEpoch = startEpoch;
	}

	set(callback: () => void, ms: number): TimerHandle {
		const timer: VirtualTimer = {due: this.#current + Math.max(0, ms), sequence: this.#sequence++, callback};
		this.#timers.add(timer);
		return timer;
	}

	clear(handle: TimerHandle | undefined): void {
		if (handle) this.#timers.delete(handle as VirtualTimer);
	}

	now(): number {
		return this.#current;
	}

	epoch(): number {
		return this.#startEpoch + Math.floor(this.#current / 1000);
	}

	/** Moves the clock forward by `ms`, running every timer that falls due (also ones set meanwhile). */
	advance(ms: number): void {
		const target = this.#current + Math.max(0, ms);
		for (;;) {
			const next = this.#nextTimer();
			if (!next || next.due > target) break;
			this.#timers.delete(next);
			this.#current = next.due;
			next.callback();
		}
		this.#current = target;
	}

	/** Delays from now of the pending timers, soonest first. */
	pending(): number[] {
		return Array.from(this.#timers, timer => timer.due - this.#current).sort((a, b) => a - b);
	}

	#nextTimer(): VirtualTimer | undefined {
		let next: VirtualTimer | undefined;
		for (const timer of this.#timers) {
			if (!next || timer.due < next.due || (timer.due === next.due && timer.sequence < next.sequence))
				next = timer;
		}
		return next;
	}
}
