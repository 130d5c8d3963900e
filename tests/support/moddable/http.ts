/*
 * Stand-in of Moddable's "http" Request (modules/network/http/http.js) on node:http / node:https,
 * with Moddable's callback protocol and runtime constants: callback.call(request, 1, status),
 * (2, lower-cased name, value) per header, (3) headers complete, (4, count) per body fragment of
 * at most 1024 bytes (lin's socket read size) which the callback reads with read(ArrayBuffer[, n])
 * (unread bytes are skipped, as http.js does), (5) complete, (-2) error. `Socket` in the
 * dictionary chooses TLS (the securesocket stand-in) and `secure.certificate` is the trusted CA.
 * "Connection: close" is sent as http.js does; redirects are not followed. close() stops all
 * callbacks; `settled` says when none can come any more.
 */
import {sharedState} from "./stand-in-state";
import {request as httpRequest, type IncomingMessage, type ClientRequest} from "node:http";
import {request as httpsRequest} from "node:https";
import {X509Certificate} from "node:crypto";
import SecureSocket from "./securesocket";

/** Largest responseFragment (lin's socket read size by default; tests set 16 KB for a TLS record). */
export const fragmentSetting = sharedState("httpFragment", () => ({bytes: 1024}));

type Der = ArrayBuffer | ArrayBufferView;

export interface RequestDictionary {
	host?: string;
	address?: string;
	port?: number;
	path?: string;
	method?: string;
	headers?: (string | number)[];
	body?: string | ArrayBuffer | boolean;
	response?: unknown;
	Socket?: unknown;
	secure?: {certificate?: Der; protocolVersion?: number};
}

/** Dictionaries of every Request made (tests check what the adapter asked for). */
export const requestLog = sharedState("requestLog", (): RequestDictionary[] => []);

/** Every Request made, in order (a test waits on one's `settled`). */
export const requestsMade = sharedState("requestsMade", (): {readonly settled: Promise<void>}[] => []);

function pem(der: Der): string {
	const bytes =
		der instanceof ArrayBuffer ? Buffer.from(der) : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
	return new X509Certificate(bytes).toString();
}

export class Request {
	static readonly requestFragment = 0;
	static readonly status = 1;
	static readonly header = 2;
	static readonly headersComplete = 3;
	static readonly responseFragment = 4;
	static readonly responseComplete = 5;
	static readonly error = -2;

	callback: ((message: number, value1?: unknown, value2?: unknown) => unknown) | undefined;
	#fragment: Buffer | undefined;
	#closed = false;
	#request: ClientRequest;
	#queue: Promise<void> = Promise.resolve();
	/** Resolves once no callback can come any more: the connection closed and every queued callback ran. */
	readonly settled: Promise<void>;

	constructor(dictionary: RequestDictionary) {
		const merged = {port: 80, method: "GET", path: "/", ...dictionary};
		requestLog.push(merged);
		if (merged.response !== undefined)
			throw new Error("http stand-in: only streaming (response undefined) is modelled");
		const headers: [string, string][] = [["Connection", "close"]];
		const flat = merged.headers ?? [];
		for (let i = 0; i + 1 < flat.length; i += 2) headers.push([String(flat[i]), String(flat[i + 1])]);
		const secure = merged.Socket === SecureSocket;
		const host = merged.host ?? merged.address ?? "";
		const options = {
			host,
			port: merged.port,
			path: merged.path,
			method: merged.method,
			headers: Object.fromEntries(headers),
			agent: false as const,
		};
		this.#request = secure
			? httpsRequest(
					{
						...options,
						ca: merged.secure?.certificate ? [pem(merged.secure.certificate)] : undefined,
						minVersion: "TLSv1.2",
					},
					response => this.#onResponse(response),
				)
			: httpRequest(options, response => this.#onResponse(response));
		this.#request.on("error", () => this.#deliver(-2));
		this.settled = new Promise<void>(resolve =>
			this.#request.once("close", () => {
				this.#queue = this.#queue.then(resolve);
			}),
		);
		requestsMade.push(this);
		this.#request.end();
	}

	#onResponse(response: IncomingMessage): void {
		this.#deliver(1, response.statusCode);
		const raw = response.rawHeaders;
		for (let i = 0; i + 1 < raw.length; i += 2) this.#deliver(2, raw[i].toLowerCase(), raw[i + 1]);
		this.#deliver(3);
		response.on("data", (chunk: Buffer) => {
			const size = fragmentSetting.bytes;
			for (let offset = 0; offset < chunk.length; offset += size) {
				const fragment = chunk.subarray(offset, offset + size);
				this.#deliver(4, fragment, undefined, true);
			}
		});
		response.on("end", () => {
			if (response.complete) this.#deliver(5);
			else this.#deliver(-2);
		});
		response.on("aborted", () => this.#deliver(-2));
		response.on("error", () => this.#deliver(-2));
	}

	/** Callbacks run one at a time, each in its own turn (Moddable dispatches from the socket callback). */
	#deliver(message: number, value1?: unknown, value2?: unknown, fragment = false): void {
		this.#queue = this.#queue.then(() => {
			if (this.#closed || !this.callback) return;
			if (fragment) {
				this.#fragment = value1 as Buffer;
				this.callback.call(this, 4, this.#fragment.length);
				this.#fragment = undefined; // unread bytes are skipped
				return;
			}
			this.callback.call(this, message, value1, value2);
			if (message === 5 || message < 0) this.close();
		});
	}

	read(type: typeof ArrayBuffer | typeof String | null, until?: number): ArrayBuffer | string | undefined {
		const fragment = this.#fragment;
		if (!fragment) return undefined;
		const count = until === undefined ? fragment.length : Math.min(until, fragment.length);
		const taken = fragment.subarray(0, count);
		this.#fragment = fragment.subarray(count);
		if (type === String) return taken.toString("utf8");
		if (type === null) return undefined;
		return taken.buffer.slice(taken.byteOffset, taken.byteOffset + taken.byteLength) as ArrayBuffer;
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.callback = undefined;
		this.#request.destroy();
	}
}
