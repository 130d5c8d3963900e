/*
 * Log port on the host: one line per message with a prefix (for example the node id), info to
 * stdout, warnings and errors to stderr.
 */
import type {Log} from "../../rainmaker/ports";

export interface LineSink {
	write(text: string): unknown;
}

export interface HostLogOptions {
	/** Default process.stdout. */
	out?: LineSink;
	/** Default process.stderr. */
	err?: LineSink;
	/** Drop info lines (warnings and errors still go out). */
	quiet?: boolean;
}

export class HostLog implements Log {
	readonly #prefix: string;
	readonly #out: LineSink;
	readonly #err: LineSink;
	readonly #quiet: boolean;

	constructor(prefix: string, options: HostLogOptions = {}) {
		this.#prefix = prefix;
		this.#out = options.out ?? process.stdout;
		this.#err = options.err ?? process.stderr;
		this.#quiet = options.quiet === true;
	}

	info(message: string): void {
		if (!this.#quiet) this.#out.write(`${this.#prefix} ${message}\n`);
	}

	warn(message: string): void {
		this.#err.write(`${this.#prefix} warning: ${message}\n`);
	}

	error(message: string): void {
		this.#err.write(`${this.#prefix} error: ${message}\n`);
	}
}
