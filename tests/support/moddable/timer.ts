/*
 * Stand-in of Moddable's "timer" (modules/base/timer) on Node timers: set(callback, ms, repeat),
 * repeat, schedule, clear (undefined, null and fired one-shot timers are ignored), delay (blocking).
 * The callback receives the timer, as in Moddable; a fired one-shot timer is cleared.
 * `liveTimers` holds the timers scheduled and not yet cleared or fired (a test checks that a poll stopped).
 */
import {sharedState} from "./stand-in-state";

export const liveTimers = sharedState("live-timers", () => new Set<object>());

class Timer {
	handle: ReturnType<typeof setTimeout> | ReturnType<typeof setInterval> | undefined;
	callback: ((timer: Timer) => void) | undefined;

	private constructor() {}

	static set(callback: (timer: Timer) => void, interval = 0, repeat?: number): Timer {
		const timer = new Timer();
		timer.callback = callback;
		Timer.schedule(timer, interval, repeat);
		return timer;
	}

	static repeat(callback: (timer: Timer) => void, interval: number): Timer {
		return Timer.set(callback, interval, interval);
	}

	static schedule(timer: Timer, interval?: number, repeat?: number): void {
		Timer.#cancel(timer);
		if (interval === undefined) return;
		liveTimers.add(timer);
		timer.handle = setTimeout(() => {
			if (repeat) timer.handle = setInterval(() => timer.callback?.(timer), repeat);
			else {
				timer.handle = undefined;
				liveTimers.delete(timer);
			}
			const callback = timer.callback;
			if (!repeat) timer.callback = undefined;
			callback?.(timer);
		}, interval);
	}

	static clear(timer: Timer | undefined | null): void {
		if (!timer) return;
		Timer.#cancel(timer);
		timer.callback = undefined;
	}

	static delay(milliseconds: number): void {
		Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
	}

	static #cancel(timer: Timer): void {
		liveTimers.delete(timer);
		if (timer.handle !== undefined) {
			clearTimeout(timer.handle as ReturnType<typeof setTimeout>);
			clearInterval(timer.handle as ReturnType<typeof setInterval>);
			timer.handle = undefined;
		}
	}
}

export default Timer;
