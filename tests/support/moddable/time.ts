/* Stand-in of Moddable's "time": Time.ticks is a monotonic millisecond count. */
import {performance} from "node:perf_hooks";

const Time = {
	get ticks(): number {
		return Math.floor(performance.now());
	},
};

export default Time;
