/*
 * An in-memory HTTP server for the fast lane: each URL answers as a script says (status, headers,
 * body chunks and their pacing on the VirtualTimers), with Range support like the local cloud's.
 * URLs are parsed with WHATWG URL, so a URL Node's client cannot parse throws here too.
 */
import type {HttpClient, HttpHandlers, HttpRequest} from "../../../ota/ports";
import type {VirtualTimers} from "../../../host/adapters/virtual-timers";
import type {TimerHandle} from "../../../rainmaker/ports";

export interface Served {
	/** The file. */
	body?: Uint8Array;
	/** Status without a body (a redirect, a 404); `location` for redirects. */
	status?: number;
	location?: string;
	/** Answer a Range request with 206 (default true). */
	ranges?: boolean;
	/** Answer every Range request with 416 (the file changed under the checkpoint). */
	rangeRefused?: boolean;
	/** Omit content-length (a chunked body). */
	chunked?: boolean;
	/** Bytes sent after the file (a server that sends too much). */
	extra?: number;
	/** Body chunk size (default 4096) and the pause before each chunk in ms (default 0). */
	chunk?: number;
	intervalMs?: number;
	/** End the connection after this many body bytes of the first response (a cut transfer). */
	cutAfter?: number;
}

export interface Request {
	readonly url: string;
	readonly range?: string;
}

export class MemoryHttp implements HttpClient {
	readonly requests: Request[] = [];
	readonly #timers: VirtualTimers;
	readonly #routes = new Map<string, Served>();
	/** Open transfers (a stopped node must leave none). */
	open = 0;

	constructor(timers: VirtualTimers) {
		this.#timers = timers;
	}

	serve(url: string, served: Served): void {
		this.#routes.set(url, served);
	}

	get(url: string, headers: ReadonlyArray<readonly [string, string]>, handlers: HttpHandlers): HttpRequest {
		const parsed = new URL(url); // throws for what Node's client cannot parse
		if (parsed.port !== "" && Number(parsed.port) > 65535)
			throw new RangeError(`Port should be >= 0 and < 65536. Received ${parsed.port}.`);
		const range = headers.find(([name]) => name.toLowerCase() === "range")?.[1];
		this.requests.push({url, range});
		const served = this.#routes.get(url);
		const timers = this.#timers;
		let done = false;
		this.open++;
		const finish = (error?: Error) => {
			if (done) return;
			done = true;
			this.open--;
			handlers.onDone(error);
		};
		const steps: (() => void)[] = [];
		if (!served)
			steps.push(() => {
				handlers.onHeaders(404, () => undefined);
				finish();
			});
		else if (served.status !== undefined && !served.body)
			steps.push(() => {
				handlers.onHeaders(served.status!, name => (name === "location" ? served.location : undefined));
				finish();
			});
		else {
			const body = served.body!;
			let start = 0;
			let status = 200;
			const match = range ? /^bytes=(\d+)-$/.exec(range) : null;
			if (match && served.ranges !== false) {
				start = Number(match[1]);
				status = start >= body.length || served.rangeRefused ? 416 : 206;
			}
			const payload =
				status === 416
					? new Uint8Array(0)
					: concat(body.subarray(start), new Uint8Array(served.extra ?? 0).fill(0x5a));
			const header = (name: string): string | undefined => {
				if (name === "content-length")
					return served.chunked || status === 416 ? undefined : String(payload.length);
				if (name === "content-range")
					return status === 206
						? `bytes ${start}-${body.length - 1}/${body.length}`
						: status === 416
							? `bytes */${body.length}`
							: undefined;
				return undefined;
			};
			steps.push(() => {
				if (!handlers.onHeaders(status, header) || status === 416) finish();
			});
			const chunk = served.chunk ?? 4096;
			const limit = served.cutAfter !== undefined ? Math.min(served.cutAfter, payload.length) : payload.length;
			for (let at = 0; at < limit; at += chunk) {
				const piece = payload.subarray(at, Math.min(at + chunk, limit));
				steps.push(() => handlers.onData(piece));
			}
			steps.push(() =>
				finish(
					limit < payload.length ? new Error("connection closed before the body was complete") : undefined,
				),
			);
			if (served.cutAfter !== undefined) served.cutAfter = undefined;
		}
		const interval = served?.intervalMs ?? 0;
		let index = 0;
		let pending: TimerHandle | undefined;
		const next = () => {
			pending = undefined;
			if (done || index >= steps.length) return;
			steps[index++]();
			if (!done) pending = timers.set(next, index === 1 ? 0 : interval);
		};
		pending = timers.set(next, 0);
		return {
			abort: (reason: string) => {
				timers.clear(pending);
				pending = undefined;
				finish(new Error(reason));
			},
		};
	}
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
	const out = new Uint8Array(a.length + b.length);
	out.set(a);
	out.set(b, a.length);
	return out;
}
