/*
 * One firmware download over the HttpClient port: follows redirects (Moddable's Request does not)
 * but never from https to http, refuses http:// unless allowed, asks for a byte range when
 * resuming (a 416 answer drops the range and starts from byte 0), aborts a stalled transfer and
 * one that is not done by its deadline, and checks that the body is as long as the server said.
 * The bytes go to a sink as they arrive; nothing is buffered here. Errors are typed Failures and
 * name the host and port. One object per transfer is its own HttpHandlers: no closures per
 * request, which on the device would each cost heap for as long as the transfer runs.
 */
import type {TimerHandle, Timers} from "../rainmaker/ports";
import {hostAndPort, urlRefusal} from "./firmware-url";
import {errorText, failed, type Failure} from "./outcome";
import type {HttpClient, HttpHandlers, HttpRequest} from "./ports";

export const MAX_REDIRECTS = 5;

export interface DownloadSink {
	/**
	 * The body starts at byte `start` of the file (0 when the server ignored the Range request or
	 * answered 416) and the whole file is `total` bytes (0 when unknown). Returns a Failure to stop.
	 */
	onStart(start: number, total: number): Failure | undefined;
	/** Returns a Failure to stop. The bytes are valid only during the call. */
	onData(chunk: Uint8Array): Failure | undefined;
	/** The transfer ended: without argument when the body arrived whole, else why. Called once. */
	onEnd(failure?: Failure): void;
}

/**
 * One transfer of an attempt, HTTP(S) (Download) or an MQTT stream (StreamDownload): nothing
 * happens until start(); then the sink hears onStart, onData and exactly one onEnd.
 */
export interface Transfer {
	/** Starts the transfer (once). The sink's onEnd may run before start returns. */
	start(): void;
	/** Stops the transfer; the sink's onEnd follows with `failure` (unless it ran already). */
	abort(failure: Failure): void;
}

export interface DownloadOptions {
	readonly offset: number;
	readonly stallMs: number;
	/** The whole transfer must end within this many ms (0 = no deadline). */
	readonly deadlineMs: number;
	/** Accept http:// URLs (an https URL never redirects to http regardless). */
	readonly allowHttp: boolean;
}

export {hostAndPort, urlRefusal} from "./firmware-url";

/** Resolves a redirect target against the URL that answered with it. */
export function resolveLocation(base: string, location: string): string {
	if (/^[a-z][a-z0-9+.-]*:/i.test(location)) return location;
	const origin = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(base);
	if (!origin) return location;
	if (location.startsWith("//")) return base.slice(0, base.indexOf(":") + 1) + location;
	if (location.startsWith("/")) return origin[1] + withoutDotSegments(location);
	const path = base.slice(origin[1].length).replace(/[?#].*$/, "");
	return origin[1] + withoutDotSegments(path.slice(0, path.lastIndexOf("/") + 1) + location);
}

/** RFC 3986 remove_dot_segments on the path part of `target` (its query stays as it is). */
function withoutDotSegments(target: string): string {
	const query = target.search(/[?#]/);
	const path = query < 0 ? target : target.slice(0, query);
	const segments: string[] = [];
	const parts = path.split("/");
	for (let i = 0; i < parts.length; i++) {
		const part = parts[i];
		if (part === "..") {
			if (segments.length > 1) segments.pop();
		} else if (part !== ".") segments.push(part);
		if ((part === "." || part === "..") && i === parts.length - 1) segments.push("");
	}
	return segments.join("/") + (query < 0 ? "" : target.slice(query));
}

/** `bytes first-last/total` → [first, total] (total 0 when "*"), or undefined. */
function parseContentRange(value: string | undefined): [number, number] | undefined {
	const match = value ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
	if (!match) return undefined;
	return [Number(match[1]), match[3] === "*" ? 0 : Number(match[3])];
}

export class Download implements HttpHandlers, Transfer {
	#http: HttpClient;
	#timers: Timers;
	#options: DownloadOptions;
	#sink: DownloadSink;
	#url: string;
	#request: HttpRequest | undefined;
	#stall: TimerHandle | undefined;
	#deadline: TimerHandle | undefined;
	#offset: number;
	#started = false;
	#finished = false;
	#failure: Failure | undefined;
	#redirecting = false;
	#redirects = 0;
	#expected = -1; // body bytes announced by content-length, -1 when not announced
	#received = 0;
	#lastActivity = 0;
	/** One watchdog callback for the whole transfer (not a timer per chunk). */
	#watch = () => {
		this.#stall = undefined;
		if (this.#finished) return;
		const quiet = this.#timers.now() - this.#lastActivity;
		if (quiet >= this.#options.stallMs)
			this.abort(
				failed(`no data for ${Math.round(this.#options.stallMs / 1000)} s from ${hostAndPort(this.#url)}`),
			);
		else this.#stall = this.#timers.set(this.#watch, this.#options.stallMs - quiet);
	};

	/** A download of `url` into `sink`, which start() begins; `sink.onEnd` tells how it ended. */
	constructor(http: HttpClient, timers: Timers, url: string, options: DownloadOptions, sink: DownloadSink) {
		this.#http = http;
		this.#timers = timers;
		this.#options = options;
		this.#sink = sink;
		this.#url = url;
		this.#offset = options.offset;
	}

	/**
	 * Sends the first request. The job's URL was accepted when the otaurl was parsed (ota/otaurl.ts,
	 * the one rule in ota/firmware-url.ts); here the rule is applied again only to redirects.
	 */
	start(): void {
		if (this.#started) return;
		this.#started = true;
		const options = this.#options;
		if (options.deadlineMs > 0) {
			this.#deadline = this.#timers.set(() => {
				this.#deadline = undefined;
				this.abort(
					failed(`download not complete within ${Math.round(options.deadlineMs / 1000)} s (too slow)`),
				);
			}, options.deadlineMs);
		}
		this.#get();
	}

	/** Stops the transfer; the sink's onEnd follows with `failure`. */
	abort(failure: Failure): void {
		this.#failure ??= failure;
		if (this.#request) this.#request.abort(failure.text);
		else this.#finish(failure);
	}

	onHeaders(status: number, header: (name: string) => string | undefined): boolean {
		try {
			return this.#headers(status, header);
		} catch (error) {
			return this.#refuse(failed(`OTA failed: ${errorText(error)}`));
		}
	}

	onData(chunk: Uint8Array): void {
		if (this.#failure !== undefined || this.#finished) return;
		this.#armStall();
		this.#received += chunk.length;
		if (this.#expected >= 0 && this.#received > this.#expected)
			return this.abort(failed("more data than content-length"));
		let refusal: Failure | undefined;
		try {
			refusal = this.#sink.onData(chunk);
		} catch (error) {
			refusal = failed(`OTA failed: ${errorText(error)}`);
		}
		if (refusal) this.abort(refusal);
	}

	onDone(error?: Error): void {
		this.#timers.clear(this.#stall);
		this.#stall = undefined;
		this.#request = undefined;
		if (this.#redirecting && this.#failure === undefined) {
			this.#redirecting = false;
			this.#get();
		} else if (this.#failure !== undefined) this.#finish(this.#failure);
		else if (error) this.#finish(failed(this.#withPlace(errorText(error))));
		else if (this.#expected >= 0 && this.#received !== this.#expected)
			this.#finish(failed(`Complete data was not received (${this.#received} of ${this.#expected} bytes)`));
		else this.#finish();
	}

	#headers(status: number, header: (name: string) => string | undefined): boolean {
		this.#armStall();
		if (status >= 300 && status < 400 && status !== 304) {
			const location = header("location");
			if (!location)
				return this.#refuse(failed(`HTTP ${status} without location from ${hostAndPort(this.#url)}`));
			if (++this.#redirects > MAX_REDIRECTS) return this.#refuse(failed(`more than ${MAX_REDIRECTS} redirects`));
			const target = resolveLocation(this.#url, location);
			const refusal = urlRefusal(target, this.#options.allowHttp, this.#url);
			if (refusal) return this.#refuse(failed(refusal));
			this.#redirecting = true;
			this.#url = target;
			return false;
		}
		if (status === 416 && this.#offset > 0) {
			// The saved resume point is past what the server has: start again from byte 0.
			this.#offset = 0;
			this.#redirecting = true;
			return false;
		}
		let start = 0,
			total = 0;
		this.#received = 0;
		const length = header("content-length");
		this.#expected = length !== undefined && /^\d+$/.test(length.trim()) ? Number(length) : -1;
		if (status === 206) {
			const range = parseContentRange(header("content-range"));
			if (!range) return this.#refuse(failed("HTTP 206 without a valid content-range"));
			[start, total] = range;
		} else if (status === 200) total = this.#expected >= 0 ? this.#expected : 0;
		else return this.#refuse(failed(`HTTP status ${status} from ${hostAndPort(this.#url)}`));
		const refusal = this.#sink.onStart(start, total);
		return refusal ? this.#refuse(refusal) : true;
	}

	/** A transport error's text with the host and port, unless it names them already. */
	#withPlace(text: string): string {
		const place = hostAndPort(this.#url);
		return place === "" || text.includes(place) ? text : `${text} (${place})`;
	}

	#get(): void {
		const offset = this.#offset;
		this.#armStall();
		try {
			this.#request = this.#http.get(this.#url, offset > 0 ? [["Range", `bytes=${offset}-`]] : [], this);
		} catch (error) {
			// a URL the client cannot parse (bad port, bad host) throws at once
			this.#request = undefined;
			this.#finish(
				failed(
					this.#withPlace(`cannot request ${JSON.stringify(this.#url.slice(0, 60))}: ${errorText(error)}`),
				),
			);
		}
	}

	#refuse(failure: Failure): false {
		this.#failure ??= failure;
		return false;
	}

	/** Notes activity; the watchdog aborts the transfer after stallMs without any. */
	#armStall(): void {
		this.#lastActivity = this.#timers.now();
		this.#stall ??= this.#timers.set(this.#watch, this.#options.stallMs);
	}

	#finish(failure?: Failure): void {
		if (this.#finished) return;
		this.#finished = true;
		this.#timers.clear(this.#stall);
		this.#timers.clear(this.#deadline);
		this.#stall = this.#deadline = undefined;
		this.#sink.onEnd(failure);
	}
}
