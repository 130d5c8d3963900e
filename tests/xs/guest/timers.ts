/*
 * Timers port inside XS. xsnap has no setTimeout, and the lane must not wait on real time: the
 * Node side owns the clock (a virtual clock the tests advance) and sends a "timer" event when a
 * timer is due.
 */
import type {TimerHandle, Timers} from "../../../rainmaker/ports";
import {call, on} from "./bridge";

interface BridgedTimer extends TimerHandle {
	readonly id: number;
}

export class BridgedTimers implements Timers {
	#next = 1;
	readonly #callbacks = new Map<number, () => void>();

	constructor() {
		on("timer", head => {
			const id = Number(head.id);
			const callback = this.#callbacks.get(id);
			if (callback) {
				this.#callbacks.delete(id);
				callback();
			}
		});
	}

	set(callback: () => void, ms: number): TimerHandle {
		const timer: BridgedTimer = {id: this.#next++};
		this.#callbacks.set(timer.id, callback);
		call("timers", "set", [timer.id, ms]);
		return timer;
	}

	clear(handle: TimerHandle | undefined): void {
		if (!handle) return;
		const {id} = handle as BridgedTimer;
		if (this.#callbacks.delete(id)) call("timers", "clear", [id]);
	}

	now(): number {
		return Number(call("timers", "now").value);
	}

	epoch(): number {
		return Number(call("timers", "epoch").value);
	}

	/** Timers set and not yet fired or cleared (a leak check for the tests). */
	get pending(): number {
		return this.#callbacks.size;
	}
}
