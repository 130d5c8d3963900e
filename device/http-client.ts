/*
 * HttpClient port on Moddable's `http` Request (modules/network/http/http.js), streaming:
 * `response` stays undefined so nothing is buffered; each responseFragment is read inside the
 * callback with read(ArrayBuffer, n) in pieces of at most READ_PIECE_BYTES and handed on piece by
 * piece (over HTTPS a fragment is a whole TLS record, up to 16 KB: reading it at once would put
 * 16 KB into the XS chunk heap per fragment). HTTPS goes through
 * SecureSocket (the `Socket` and `secure` properties of the dictionary reach the socket
 * constructor). No redirects are followed (neither does Request; the OTA core does it).
 * The URL is parsed by ota/firmware-url.ts (XS has no URL class unless the web/url module is linked), the
 * same parser that accepted it when the otaurl arrived.
 * Message values are Moddable's runtime constants (docs/moddable.md §4.1), not the typings' (which say
 * responseFragment 3 and error -1).
 */
import {Request} from "http";
import SecureSocket from "securesocket";
import type {Timers} from "../rainmaker/ports";
import {parseHttpUrl, type ParsedUrl} from "../ota/firmware-url";
import type {HttpClient, HttpHandlers, HttpRequest} from "../ota/ports";

const STATUS = 1;
const HEADER = 2;
const HEADERS_COMPLETE = 3;
const RESPONSE_FRAGMENT = 4;
const RESPONSE_COMPLETE = 5;

export {parseHttpUrl, type ParsedUrl} from "../ota/firmware-url";

/** Largest piece read from a response fragment (one TCP segment's payload). */
export const READ_PIECE_BYTES = 1460;

/**
 * The roots (DER) trusted for https downloads from `host`, or from every host when `host` is
 * absent. Moddable's TLS client takes one `certificate` per connection (ssl/ssl_cert.js
 * CertificateManager registers options.certificate only; its other anchors are the SDK's own
 * store, ca.ski + caN.der resources, which lacks Amazon Root CA 1..4), so a rule with several roots
 * is tried one root per connection: a request that fails before any HTTP status is made again with
 * the next root, and the root that worked is tried first for that host from then on.
 */
export interface TrustRule {
	readonly host?: string;
	readonly certificates: readonly ArrayBuffer[];
}

export interface HttpClientConfig {
	/** The first rule that matches the URL's host gives the trusted roots; none = the SDK's built-in CA resources. */
	readonly trust?: readonly TrustRule[];
}

/** The roots a rule list trusts for a host ([] = none configured). */
export function trustedCertificates(rules: readonly TrustRule[] | undefined, host: string): readonly ArrayBuffer[] {
	const lower = host.toLowerCase();
	return rules?.find(rule => rule.host === undefined || rule.host.toLowerCase() === lower)?.certificates ?? [];
}

/** What the adapter uses of a Request (its callback's `this`). */
interface StreamingRequest {
	callback: (message: number, value1?: unknown, value2?: unknown) => void;
	read(type: typeof ArrayBuffer, limit?: number): ArrayBuffer | undefined;
	close(): void;
}

export class DeviceHttpClient implements HttpClient {
	readonly #timers: Timers;
	readonly #config: HttpClientConfig;
	/** Per host: the index of the root that verified its server last (a few hosts at most: the OTA URL's). */
	readonly #preferred = new Map<string, number>();

	constructor(timers: Timers, config: HttpClientConfig = {}) {
		this.#timers = timers;
		this.#config = config;
	}

	get(url: string, headers: ReadonlyArray<readonly [string, string]>, handlers: HttpHandlers): HttpRequest {
		let finished = false;
		let request: StreamingRequest | undefined;
		const finish = (error?: Error) => {
			if (finished) return;
			finished = true;
			const current = request;
			request = undefined;
			try {
				current?.close();
			} catch {
				// already closed by http.js
			}
			handlers.onDone(error);
		};
		const handle: HttpRequest = {
			abort: (reason: string) => {
				if (finished) return;
				const current = request;
				request = undefined;
				try {
					current?.close();
				} catch {
					// already closed
				}
				// onDone runs asynchronously, never inside the caller's abort()
				this.#timers.set(() => finish(new Error(`aborted: ${reason}`)), 0);
			},
		};

		let target: ParsedUrl;
		try {
			target = parseHttpUrl(url);
			for (const [name, value] of headers) {
				if (/[\r\n:]/.test(name) || /[\r\n]/.test(value))
					throw new Error(`bad HTTP header ${JSON.stringify(name)}`);
			}
		} catch (error) {
			this.#timers.set(() => finish(toError(error)), 0);
			return handle;
		}

		const dictionary: {[key: string]: unknown} = {
			host: target.host,
			port: target.port,
			path: target.path,
			method: "GET",
			headers: headers.flatMap(([name, value]) => [name, value]),
		};
		const where = `${target.secure ? "https" : "http"}://${target.host}:${target.port}`;
		const roots = target.secure ? trustedCertificates(this.#config.trust, target.host) : [];
		const hostKey = target.host.toLowerCase();
		const first = Math.min(this.#preferred.get(hostKey) ?? 0, Math.max(0, roots.length - 1));
		let tries = 0;
		const open = (): void => {
			if (target.secure) {
				dictionary.Socket = SecureSocket;
				const root = roots.length ? roots[(first + tries) % roots.length] : undefined;
				dictionary.secure = {
					protocolVersion: 0x0303,
					...(root ? {certificate: root} : {}),
				};
			}
			try {
				// The typings lack Socket/secure (docs/moddable.md §4.1), hence the cast of the dictionary
				request = new Request(
					dictionary as ConstructorParameters<typeof Request>[0],
				) as unknown as StreamingRequest;
			} catch (error) {
				this.#timers.set(() => finish(new Error(`cannot connect to ${where}: ${toError(error).message}`)), 0);
				return;
			}
			listen(request);
		};
		const retryWithNextRoot = (): boolean => {
			if (tries + 1 >= roots.length) return false;
			tries++;
			try {
				request?.close();
			} catch {
				// already closed by http.js
			}
			request = undefined;
			this.#timers.set(() => {
				if (!finished) open();
			}, 0);
			return true;
		};
		const preferred = this.#preferred;

		let status = 0;
		const received = new Map<string, string>();
		const listen = (own: StreamingRequest): void => {
			own.callback = function (this: StreamingRequest, message: number, value1?: unknown, value2?: unknown) {
				if (finished || request !== own) return;
				try {
					if (message === STATUS) {
						status = Number(value1);
						if (roots.length > 1) preferred.set(hostKey, (first + tries) % roots.length);
					} else if (message === HEADER) {
						const name = String(value1).toLowerCase();
						const previous = received.get(name);
						received.set(name, previous === undefined ? String(value2) : `${previous}, ${String(value2)}`);
					} else if (message === HEADERS_COMPLETE) {
						if (!handlers.onHeaders(status, name => received.get(name.toLowerCase())))
							finish(new Error(`transfer stopped by the receiver (HTTP ${status})`));
					} else if (message === RESPONSE_FRAGMENT) {
						for (let left = Number(value1); left > 0 && !finished && request === own;) {
							const bytes = this.read(ArrayBuffer, Math.min(left, READ_PIECE_BYTES));
							if (!bytes || !bytes.byteLength) break;
							left -= bytes.byteLength;
							handlers.onData(new Uint8Array(bytes));
						}
					} else if (message === RESPONSE_COMPLETE) {
						finish();
					} else if (message < 0) {
						// before any status the TLS handshake may have failed on this root: the next one is tried
						if (status === 0 && retryWithNextRoot()) return;
						const tried =
							roots.length > 1 && status === 0
								? `; tried ${tries + 1} of ${roots.length} trusted roots`
								: "";
						finish(
							new Error(
								`HTTP transfer from ${where} failed (Request error ${message}${value1 === undefined ? "" : `: ${String(value1)}`}${tried})`,
							),
						);
					}
				} catch (error) {
					finish(toError(error));
				}
			};
		};
		open();
		return handle;
	}
}

function toError(error: unknown): Error {
	return error instanceof Error ? error : new Error(String(error));
}
