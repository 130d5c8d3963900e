/*
 * HttpClient port on Node's http/https: one streamed GET per call, no redirects (the OTA core
 * follows them, as it must on the device), chunks handed on as they arrive, cut to at most
 * `maxChunk` bytes so the host sees the small chunks a device's socket delivers. As ota/ports.ts
 * promises, no handler runs inside get() or abort(), and a transfer stopped at the headers or
 * aborted ends in onDone(Error) (tests/port-contracts.test.ts holds it to that).
 */
import {request as httpRequest, type IncomingMessage} from "node:http";
import {request as httpsRequest} from "node:https";
import type {HttpClient, HttpHandlers, HttpRequest} from "../../ota/ports";

export interface HostHttpClientOptions {
	/** CA certificates (PEM) trusted for HTTPS, in place of Node's built-in list. */
	ca?: string | Buffer;
	/** Largest chunk handed to onData. Default 4096. */
	maxChunk?: number;
}

export class HostHttpClient implements HttpClient {
	readonly #options: HostHttpClientOptions;

	constructor(options: HostHttpClientOptions = {}) {
		this.#options = options;
	}

	get(url: string, headers: ReadonlyArray<readonly [string, string]>, handlers: HttpHandlers): HttpRequest {
		const maxChunk = this.#options.maxChunk ?? 4096;
		let done = false;
		let response: IncomingMessage | undefined;
		const finish = (error?: Error) => {
			if (done) return;
			done = true;
			handlers.onDone(error);
		};
		/** As the port promises: never inside the caller's get() or abort(); nothing reaches the handlers meanwhile. */
		const finishLater = (error: Error) => {
			if (done) return;
			done = true;
			setImmediate(() => handlers.onDone(error));
		};
		const secure = url.startsWith("https:");
		const send = secure ? httpsRequest : httpRequest;
		const request = send(
			url,
			{method: "GET", headers: Object.fromEntries(headers), ca: secure ? this.#options.ca : undefined},
			incoming => {
				response = incoming;
				const header = (name: string) => {
					const value = incoming.headers[name.toLowerCase()];
					return Array.isArray(value) ? value.join(", ") : value;
				};
				let stop: Error | undefined;
				try {
					if (!handlers.onHeaders(incoming.statusCode ?? 0, header))
						stop = new Error("transfer stopped after the headers");
				} catch (error) {
					stop = error instanceof Error ? error : new Error(String(error));
				}
				if (stop) {
					incoming.destroy();
					finish(stop);
					return;
				}
				incoming.on("data", (data: Buffer) => {
					for (let at = 0; at < data.length && !done; at += maxChunk)
						handlers.onData(
							new Uint8Array(data.buffer, data.byteOffset + at, Math.min(maxChunk, data.length - at)),
						);
				});
				incoming.on("end", () => finish());
				incoming.on("aborted", () => finish(new Error("connection closed before the body was complete")));
				incoming.on("error", error => finish(error));
				incoming.on("close", () => {
					if (!incoming.complete) finish(new Error("connection closed before the body was complete"));
				});
			},
		);
		request.on("error", error => finish(error));
		request.end();
		return {
			abort(reason: string) {
				if (done) return;
				finishLater(new Error(reason));
				response?.destroy();
				request.destroy();
			},
		};
	}
}
