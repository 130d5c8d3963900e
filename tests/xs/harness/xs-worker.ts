/*
 * Drives one xsnap worker process (the real XS engine built from @agoric/xsnap, in this
 * project's device-heap variant, see scripts/xsnap-setup.mjs) over its netstring pipes (fd 3 to
 * the worker, fd 4 from it). Written here rather than taken from the package's JS API, which
 * needs SES lockdown of the calling Node process (it would freeze the intrinsics of the whole
 * mocha run).
 *
 * One command at a time: the worker runs each to idle (promise jobs, setImmediate) and answers
 * with its meter. While it runs it may query the Node side (issueCommand): `onQuery` answers
 * synchronously, so a query can never wait for another command (that would deadlock).
 */
import {spawn, type ChildProcess} from "node:child_process";
import type {Writable} from "node:stream";
import {existsSync} from "node:fs";
import {fileURLToPath} from "node:url";

export const WORKER_PATH = fileURLToPath(
	new URL("../../../node_modules/.xsnap-device/xsnap/build/bin/lin/release/xsnap-worker", import.meta.url),
);

/** Creation sizes as in a Moddable manifest's `creation` section (bytes, slots). */
export interface CreationSizes {
	readonly chunk: number;
	readonly chunkIncrement: number;
	readonly heap: number;
	readonly heapIncrement: number;
	readonly stack: number;
}

/** `-p esp32` defaults (docs/moddable.md §11.7). */
export const ESP32_CREATION: CreationSizes = Object.freeze({
	chunk: 32768,
	chunkIncrement: 1024,
	heap: 2048,
	heapIncrement: 64,
	stack: 384,
});

/** One command's meter, as the worker reports it. */
export interface Meter {
	/** XS computation units (the meter index) of the command. */
	readonly compute: number;
	/** Bytes taken from the system so far (grows only). */
	readonly allocate: number;
	readonly currentHeapCount: number;
}

export interface CommandResult {
	readonly reply: Uint8Array;
	readonly meter: Meter;
}

/** xsnap-worker exit codes (package api.js ExitCode). */
const EXIT_REASONS: {readonly [code: number]: string} = {
	1: "bad usage",
	2: "I/O error",
	11: "not enough memory (the allocation limit or a fixed heap)",
	12: "stack overflow",
	15: "unhandled exception",
	16: "no more keys",
	17: "too much computation",
};

export class XsExitError extends Error {
	constructor(
		readonly code: number | null,
		readonly signal: string | null,
		readonly stderr: string,
	) {
		super(
			`xsnap worker exited (${code !== null ? `code ${code}: ${EXIT_REASONS[code] ?? "unknown"}` : `signal ${signal}`})${stderr ? `; stderr: ${stderr.trim().slice(-500)}` : ""}`,
		);
	}
}

export interface XsWorkerOptions {
	readonly creation?: CreationSizes;
	/** Total bytes XS may take from the system (absolute), from the start. */
	readonly allocationLimit?: number;
	/** Answers a query (issueCommand) of the guest. Must not wait for the worker. */
	readonly onQuery: (request: Uint8Array) => Uint8Array;
	/** Each line the guest prints. */
	readonly onPrint?: (line: string) => void;
}

interface Pending {
	resolve(result: CommandResult): void;
	reject(error: Error): void;
}

export class XsWorker {
	readonly #process: ChildProcess;
	readonly #options: XsWorkerOptions;
	readonly #toWorker: Writable;
	#input: Buffer = Buffer.alloc(0);
	#queue: Promise<unknown> = Promise.resolve();
	#pending: Pending | undefined;
	#current: Uint8Array | undefined;
	#exit: XsExitError | undefined;
	#stderr = "";
	readonly exited: Promise<XsExitError>;

	constructor(options: XsWorkerOptions) {
		if (!existsSync(WORKER_PATH))
			throw new Error(
				`${WORKER_PATH} is missing: run npm install (its postinstall runs scripts/xsnap-setup.mjs)`,
			);
		this.#options = options;
		const env: NodeJS.ProcessEnv = {...process.env};
		const creation = options.creation ?? ESP32_CREATION;
		env.XSNAP_CREATION = [
			creation.chunk,
			creation.chunkIncrement,
			creation.heap,
			creation.heapIncrement,
			creation.stack,
		].join(",");
		if (options.allocationLimit !== undefined) env.XSNAP_ALLOCATION_LIMIT = String(options.allocationLimit);
		this.#process = spawn(WORKER_PATH, ["rainmaker-ota-xs"], {
			env,
			stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
		});
		this.#toWorker = this.#process.stdio[3] as Writable;
		const fromWorker = this.#process.stdio[4]!;
		fromWorker.on("data", (data: Buffer) => this.#receive(data));
		let printed = "";
		this.#process.stdout!.setEncoding("utf8").on("data", (text: string) => {
			printed += text;
			let end: number;
			while ((end = printed.indexOf("\n")) >= 0) {
				options.onPrint?.(printed.slice(0, end));
				printed = printed.slice(end + 1);
			}
		});
		this.#process.stderr!.setEncoding("utf8").on("data", (text: string) => {
			this.#stderr = (this.#stderr + text).slice(-4000);
		});
		this.exited = new Promise(resolve => {
			this.#process.on("exit", (code, signal) => {
				this.#exit = new XsExitError(code, signal, this.#stderr);
				this.#pending?.reject(this.#exit);
				this.#pending = undefined;
				resolve(this.#exit);
			});
		});
		this.#toWorker.on("error", () => {}); // EPIPE after an exit: reported through `exited`
	}

	/** Evaluates a script in the worker's global scope and runs it to idle. */
	evaluate(code: string): Promise<CommandResult> {
		return this.#enqueue(Buffer.concat([Buffer.from("e"), Buffer.from(code, "utf8")]));
	}

	/** Delivers a command to the guest's handleCommand and runs it to idle. */
	command(request: Uint8Array): Promise<CommandResult> {
		return this.#enqueue(Buffer.concat([Buffer.from("?"), request]));
	}

	/** The request of the command the worker runs now (what its handleCommand received), if any. */
	get current(): Uint8Array | undefined {
		return this.#current;
	}

	/** Ends the worker (a normal exit after the pending commands). */
	async close(): Promise<void> {
		if (this.#exit) return;
		await this.#queue.catch(() => {});
		this.#toWorker.end();
		await this.exited;
	}

	/** Kills the worker at once. */
	kill(): void {
		this.#process.kill("SIGKILL");
	}

	#enqueue(message: Buffer): Promise<CommandResult> {
		const run = () =>
			new Promise<CommandResult>((resolve, reject) => {
				if (this.#exit) {
					reject(this.#exit);
					return;
				}
				this.#pending = {resolve, reject};
				this.#current = message[0] === 0x3f ? message.subarray(1) : undefined;
				this.#send(message);
			});
		const result = this.#queue.then(run, run);
		this.#queue = result.catch(() => {});
		return result;
	}

	#send(message: Uint8Array): void {
		this.#toWorker.write(Buffer.concat([Buffer.from(`${message.length}:`), message, Buffer.from(",")]));
	}

	#receive(data: Buffer): void {
		this.#input = this.#input.length ? Buffer.concat([this.#input, data]) : data;
		for (;;) {
			const colon = this.#input.indexOf(0x3a);
			if (colon < 0) return;
			const length = Number(this.#input.subarray(0, colon).toString("latin1"));
			if (!Number.isInteger(length)) {
				this.kill();
				return;
			}
			if (this.#input.length < colon + 1 + length + 1) return;
			const message = this.#input.subarray(colon + 1, colon + 1 + length);
			this.#input = this.#input.subarray(colon + 2 + length);
			this.#message(message);
		}
	}

	#message(message: Buffer): void {
		const kind = String.fromCharCode(message[0]);
		if (kind === "?") {
			let reply: Uint8Array;
			try {
				reply = this.#options.onQuery(
					new Uint8Array(message.buffer, message.byteOffset + 1, message.length - 1),
				);
			} catch (error) {
				// onQuery answers errors itself; this is a harness bug: end the worker so the test fails loudly.
				this.#pending?.reject(error instanceof Error ? error : new Error(String(error)));
				this.#pending = undefined;
				this.kill();
				return;
			}
			this.#send(Buffer.concat([Buffer.from("/"), reply]));
			return;
		}
		const pending = this.#pending;
		this.#pending = undefined;
		this.#current = undefined;
		if (!pending) return;
		if (kind === ".") {
			const separator = message.indexOf(1);
			const meter = JSON.parse(message.subarray(1, separator).toString("utf8")) as Meter;
			pending.resolve({reply: new Uint8Array(message.subarray(separator + 1)), meter});
		} else if (kind === "!")
			pending.reject(new Error(`uncaught exception in XS: ${message.subarray(1).toString("utf8")}`));
		else pending.reject(new Error(`xsnap protocol error: reply starts with ${JSON.stringify(kind)}`));
	}
}
