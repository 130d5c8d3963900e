/*
 * One firmware download over the HttpClient port: follows redirects (Moddable's Request does not),
 * asks for a byte range when resuming, aborts a stalled transfer, and checks that the body is as
 * long as the server said. The bytes go to a sink as they arrive; nothing is buffered here.
 * One object per transfer is its own HttpHandlers: no closures per request, which on the device
 * would each cost heap for as long as the transfer runs.
 */
import type {TimerHandle, Timers} from "../rainmaker/ports";
import type {HttpClient, HttpHandlers, HttpRequest} from "./ports";

export const MAX_REDIRECTS = 5;

export interface DownloadSink {
	/**
	 * The body starts at byte `start` of the file (0 when the server ignored the Range request) and
	 * the whole file is `total` bytes (0 when unknown). Returns an error text to stop.
	 */
	onStart(start: number, total: number): string | undefined;
	/** Returns an error text to stop. The bytes are valid only during the call. */
	onData(chunk: Uint8Array): string | undefined;
	/** The transfer ended: without argument when the body arrived whole, else the reason. Called once. */
	onEnd(error?: string): void;
}

export interface DownloadOptions {
	readonly offset: number;
	readonly stallMs: number;
}

/** Resolves a redirect target against the URL that answered with it. */
export function resolveLocation(base: string, location: string): string {
	if (/^[a-z][a-z0-9+.-]*:/i.test(location))
		return location;
	const origin = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(base);
	if (!origin)
		return location;
	if (location.startsWith("//"))
		return base.slice(0, base.indexOf(":") + 1) + location;
	if (location.startsWith("/"))
		return origin[1] + withoutDotSegments(location);
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
			if (segments.length > 1)
				segments.pop();
		}
		else if (part !== ".")
			segments.push(part);
		if ((part === "." || part === "..") && i === parts.length - 1)
			segments.push("");
	}
	return segments.join("/") + (query < 0 ? "" : target.slice(query));
}

/** `bytes first-last/total` → [first, total] (total 0 when "*"), or undefined. */
function parseContentRange(value: string | undefined): [number, number] | undefined {
	const match = value ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
	if (!match)
		return undefined;
	return [Number(match[1]), match[3] === "*" ? 0 : Number(match[3])];
}

export class Download implements HttpHandlers {
	#http: HttpClient;
	#timers: Timers;
	#options: DownloadOptions;
	#sink: DownloadSink;
	#url: string;
	#request: HttpRequest | undefined;
	#stall: TimerHandle | undefined;
	#finished = false;
	#failure: string | undefined;
	#redirecting = false;
	#redirects = 0;
	#expected = -1;	// body bytes announced by content-length, -1 when not announced
	#received = 0;
	#lastActivity = 0;
	/** One watchdog callback for the whole transfer (not a timer per chunk). */
	#watch = () => {
		this.#stall = undefined;
		if (this.#finished)
			return;
		const quiet = this.#timers.now() - this.#lastActivity;
		if (quiet >= this.#options.stallMs)
			this.abort(`no data for ${Math.round(this.#options.stallMs / 1000)} s`);
		else
			this.#stall = this.#timers.set(this.#watch, this.#options.stallMs - quiet);
	};

	/** Starts downloading `url` into `sink`; `sink.onEnd` tells how it ended. */
	constructor(http: HttpClient, timers: Timers, url: string, options: DownloadOptions, sink: DownloadSink) {
		this.#http = http;
		this.#timers = timers;
		this.#options = options;
		this.#sink = sink;
		this.#url = url;
		this.#get();
	}

	/** Stops the transfer; the sink's onEnd follows with `reason`. */
	abort(reason: string): void {
		this.#failure ??= reason;
		this.#request?.abort(reason);
	}

	onHeaders(status: number, header: (name: string) => string | undefined): boolean {
		this.#armStall();
		if (status >= 300 && status < 400 && status !== 304) {
			const location = header("location");
			if (!location)
				return this.#refuse(`HTTP ${status} without location`);
			if (++this.#redirects > MAX_REDIRECTS)
				return this.#refuse(`more than ${MAX_REDIRECTS} redirects`);
			this.#redirecting = true;
			this.#url = resolveLocation(this.#url, location);
			return false;
		}
		let start = 0, total = 0;
		this.#received = 0;
		const length = header("content-length");
		this.#expected = length !== undefined && /^\d+$/.test(length.trim()) ? Number(length) : -1;
		if (status === 206) {
			const range = parseContentRange(header("content-range"));
			if (!range)
				return this.#refuse("HTTP 206 without a valid content-range");
			[start, total] = range;
		}
		else if (status === 200)
			total = this.#expected >= 0 ? this.#expected : 0;
		else
			return this.#refuse(`HTTP status ${status}`);
		const refusal = this.#sink.onStart(start, total);
		return refusal ? this.#refuse(refusal) : true;
	}

	onData(chunk: Uint8Array): void {
		if (this.#failure !== undefined)
			return;
		this.#armStall();
		this.#received += chunk.length;
		if (this.#expected >= 0 && this.#received > this.#expected)
			return this.abort("more data than content-length");
		const refusal = this.#sink.onData(chunk);
		if (refusal)
			this.abort(refusal);
	}

	onDone(error?: Error): void {
		this.#timers.clear(this.#stall);
		this.#stall = undefined;
		if (this.#redirecting && this.#failure === undefined) {
			this.#redirecting = false;
			this.#get();
		}
		else if (this.#failure !== undefined)
			this.#finish(this.#failure);
		else if (error)
			this.#finish(error.message);
		else if (this.#expected >= 0 && this.#received !== this.#expected)
			this.#finish(`Complete data was not received (${this.#received} of ${this.#expected} bytes)`);
		else
			this.#finish();
	}

	#get(): void {
		if (!/^https?:\/\//i.test(this.#url)) {
			this.#finish(`unsupported URL ${JSON.stringify(this.#url.slice(0, 40))}`);
			return;
		}
		const offset = this.#options.offset;
		this.#armStall();
		this.#request = this.#http.get(this.#url, offset > 0 ? [["Range", `bytes=${offset}-`]] : [], this);
	}

	#refuse(reason: string): false {
		this.#failure ??= reason;
		return false;
	}

	/** Notes activity; the watchdog aborts the transfer after stallMs without any. */
	#armStall(): void {
		this.#lastActivity = this.#timers.now();
		this.#stall ??= this.#timers.set(this.#watch, this.#options.stallMs);
	}

	#finish(error?: string): void {
		if (this.#finished)
			return;
		this.#finished = true;
		this.#timers.clear(this.#stall);
		this.#stall = undefined;
		this.#sink.onEnd(error);
	}
}
