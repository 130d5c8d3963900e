/*
 * Timers port on Node's timers and clocks.
 */
import {performance} from "node:perf_hooks";
import type {TimerHandle, Timers} from "../../rainmaker/ports";

interface HostTimerHandle extends TimerHandle {
	timeout: NodeJS.Timeout;
}

export class HostTimers implements Timers {
	set(callback: () => void, ms: number): TimerHandle {
		const handle: HostTimerHandle = {timeout: setTimeout(callback, Math.max(0, ms))};
		return handle;
	}

	clear(handle: TimerHandle | undefined): void {
		if (handle) clearTimeout((handle as HostTimerHandle).timeout);
	}

	now(): number {
		return performance.now();
	}

	epoch(): number {
		return Math.floor(Date.now() / 1000);
	}
}
