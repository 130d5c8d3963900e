/*
 * Timers port on Moddable's `timer` (one-shot Timer.set; the callback runs from the run loop) and
 * `time` (Time.ticks: monotonic milliseconds). Wall clock from Date.now(), which setup/network
 * sets by SNTP before main runs on esp32; before that it counts from 1970.
 */
import Timer from "timer";
import Time from "time";
import type {TimerHandle, Timers} from "../rainmaker/ports";

export class DeviceTimers implements Timers {
	set(callback: () => void, ms: number): TimerHandle {
		return Timer.set(() => callback(), Math.max(0, ms)) as unknown as TimerHandle;
	}

	clear(handle: TimerHandle | undefined): void {
		// Timer.clear of a one-shot timer that already fired is harmless in Moddable's timer.js
		Timer.clear(handle as unknown as Timer | undefined);
	}

	now(): number {
		return Time.ticks;
	}

	epoch(): number {
		return Math.floor(Date.now() / 1000);
	}
}
