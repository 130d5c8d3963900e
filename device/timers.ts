/*
 * Timers port on Moddable's `timer` (one-shot Timer.set; the callback runs from the run loop) and
 * `time` (Time.ticks: monotonic milliseconds). Wall clock from Date.now(), which setup/network
 * sets by SNTP before main runs on esp32; before that it counts from 1970.
 */
import Timer from "timer";
import Time from "time";
import type {TimerHandle, Timers} from "../rainmaker/ports";

/** Time.ticks is modMilliseconds() (uint32) stored as an int32 (xsmcSetInteger): it turns negative after 24.8 days and wraps after 49.7. */
const TICKS_RANGE = 0x100000000;

export class DeviceTimers implements Timers {
	#lastTicks = 0;
	#wraps = 0;

	set(callback: () => void, ms: number): TimerHandle {
		return Timer.set(() => callback(), Math.max(0, ms)) as unknown as TimerHandle;
	}

	clear(handle: TimerHandle | undefined): void {
		// Timer.clear of a one-shot timer that already fired is harmless (modTimer.c xs_timer_clear)
		Timer.clear(handle as unknown as Timer | undefined);
	}

	/** Monotonic across the tick counter's wrap, provided now() is called at least once per 49 days (the MQTT keep-alive does). */
	now(): number {
		const ticks = Time.ticks >>> 0;
		if (ticks < this.#lastTicks) this.#wraps++;
		this.#lastTicks = ticks;
		return this.#wraps * TICKS_RANGE + ticks;
	}

	epoch(): number {
		return Math.floor(Date.now() / 1000);
	}
}
