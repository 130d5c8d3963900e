/* Log port on Moddable's trace (xsbug in debug builds, stdout on lin, the serial log in instrumented builds). */
import type {Log} from "../rainmaker/ports";

export class TraceLog implements Log {
	info(message: string): void {
		trace(`${message}\n`);
	}

	warn(message: string): void {
		trace(`warning: ${message}\n`);
	}

	error(message: string): void {
		trace(`error: ${message}\n`);
	}
}
