/*
 * Stand-in of Moddable's "time": Time.ticks is modMilliseconds() (uint32) stored as an XS
 * integer (int32), as modules/base/time/esp/modTime.c does, so it turns negative after 2^31 ms.
 * Tests can set `tickSource.override` to a raw millisecond count to reach those values.
 */
import {performance} from "node:perf_hooks";
import {sharedState} from "./stand-in-state";

export const tickSource = sharedState("tickSource", (): {override?: number} => ({}));

const Time = {
	get ticks(): number {
		const milliseconds = tickSource.override ?? Math.floor(performance.now());
		return milliseconds | 0; // uint32 → int32, as xsmcSetInteger
	},
};

export default Time;
