/*
 * A Log that keeps its lines for assertions (and prints them when RMX_TEST_LOG is set, for debugging).
 */
import type {Log} from "../../rainmaker/ports";

export interface LogLine {
	level: "info" | "warn" | "error";
	message: string;
}

export class RecordingLog implements Log {
	readonly lines: LogLine[] = [];

	info(message: string): void {
		this.#add("info", message);
	}

	warn(message: string): void {
		this.#add("warn", message);
	}

	error(message: string): void {
		this.#add("error", message);
	}

	/** Lines of one level, or of all levels. */
	messages(level?: LogLine["level"]): string[] {
		return this.lines.filter(line => !level || line.level === level).map(line => line.message);
	}

	#add(level: LogLine["level"], message: string): void {
		this.lines.push({level, message});
		if (process.env.RMX_TEST_LOG) process.stderr.write(`[${level}] ${message}\n`);
	}
}
