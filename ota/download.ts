/*
 * One firmware download over the HttpClient port: follows redirects (Moddable's Request does not),
 * asks for a byte range when resuming, aborts a stalled transfer, and checks that the body is as
 * long as the server said. The bytes go to a sink as they arrive; nothing is buffered here.
 */
import type {TimerHandle, Timers} from "../rainmaker/ports";
import type {HttpClient, HttpRequest} from "./ports";

export const MAX_REDIRECTS = 5;

export interface DownloadSink {
	/**
	 * The body starts at byte `start` of the file (0 when the server ignored the Range request) and
	 * the whole file is `total` bytes (0 when unknown). Returns an error text to stop.
	 */
	onStart(start: number, total: number): string | undefined;
	/** Returns an error text to stop. The bytes are valid only during the call. */
	onData(chunk: Uint8Array): string | undefined;
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
		return origin[1] + location;
	const path = base.slice(origin[1].length).replace(/[?#].*$/, "");
	return origin[1] + path.slice(0, path.lastIndexOf("/") + 1) + location;
}

/** `bytes first-last/total` → [first, total] (total 0 when "*"), or undefined. */
function parseContentRange(value: string | undefined): [number, number] | undefined {
	const match = value ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
	if (!match)
		return undefined;
	return [Number(match[1]), match[3] === "*" ? 0 : Number(match[3])];
}

/**
 * Downloads `url` into `sink`. `done` runs once: without argument when the body arrived whole,
 * else with the reason. Returns a handle to abort.
 */
export function download(http: HttpClient, timers: Timers, url: string, options: DownloadOptions, sink: DownloadSink, done: (error?: string) => void): {abort(reason: string): void} {
	let request: HttpRequest | undefined;
	let stall: TimerHandle | undefined;
	let finished = false;
	let failure: string | undefined;
	let expected = -1;	// body bytes announced by content-length, -1 when not announced
	let received = 0;
	let redirects = 0;

	const finish = (error?: string) => {
		if (finished)
			return;
		finished = true;
		timers.clear(stall);
		done(error);
	};
	const stop = (reason: string) => {
		failure ??= reason;
		request?.abort(reason);
	};
	const armStall = () => {
		timers.clear(stall);
		stall = timers.set(() => stop(`no data for ${Math.round(options.stallMs / 1000)} s`), options.stallMs);
	};

	const get = (target: string) => {
		if (!/^https?:\/\//i.test(target)) {
			finish(`unsupported URL ${JSON.stringify(target.slice(0, 40))}`);
			return;
		}
		let redirecting = false;
		const headers: [string, string][] = options.offset > 0 ? [["Range", `bytes=${options.offset}-`]] : [];
		armStall();
		request = http.get(target, headers, {
			onHeaders(status, header) {
				armStall();
				if (status >= 300 && status < 400 && status !== 304) {
					const location = header("location");
					if (!location)
						return stop(`HTTP ${status} without location`), false;
					if (++redirects > MAX_REDIRECTS)
						return stop(`more than ${MAX_REDIRECTS} redirects`), false;
					redirecting = true;
					target = resolveLocation(target, location);
					return false;
				}
				let start = 0, total = 0;
				received = 0;
				const length = header("content-length");
				expected = length !== undefined && /^\d+$/.test(length.trim()) ? Number(length) : -1;
				if (status === 206) {
					const range = parseContentRange(header("content-range"));
					if (!range)
						return stop("HTTP 206 without a valid content-range"), false;
					[start, total] = range;
				}
				else if (status === 200)
					total = expected >= 0 ? expected : 0;
				else
					return stop(`HTTP status ${status}`), false;
				const refusal = sink.onStart(start, total);
				if (refusal)
					return stop(refusal), false;
				return true;
			},
			onData(chunk) {
				if (failure !== undefined)
					return;
				armStall();
				received += chunk.length;
				if (expected >= 0 && received > expected)
					return stop("more data than content-length");
				const refusal = sink.onData(chunk);
				if (refusal)
					stop(refusal);
			},
			onDone(error) {
				timers.clear(stall);
				if (redirecting && failure === undefined) {
					get(target);
					return;
				}
				if (failure !== undefined)
					finish(failure);
				else if (error)
					finish(error.message);
				else if (expected >= 0 && received !== expected)
					finish(`Complete data was not received (${received} of ${expected} bytes)`);
				else
					finish();
			},
		});
	};
	get(url);
	return {
		abort(reason: string) {
			stop(reason);
		},
	};
}
