/*
 * HttpClient port inside XS, carried over the bridge to a real HTTP GET on the Node side. The
 * body comes back as "http.data" events of device-sized chunks (the Node side cuts them), each
 * chunk a view into the event's frame, valid only during onData as on the device.
 */
import type {HttpClient, HttpHandlers, HttpRequest} from "../../../ota/ports";
import {call, on} from "./bridge";

/** device/http-client.ts READ_PIECE_BYTES. */
const READ_PIECE_BYTES = 1460;

export class BridgedHttp implements HttpClient {
	#next = 1;
	readonly #requests = new Map<number, HttpHandlers>();

	constructor() {
		on("http.headers", head => {
			const handlers = this.#requests.get(Number(head.id));
			if (!handlers) return false;
			const headers = head.headers as {readonly [name: string]: string};
			return handlers.onHeaders(Number(head.status), name => headers[name.toLowerCase()]);
		});
		on("http.data", (head, bytes) => {
			const id = Number(head.id);
			for (let at = 0; at < bytes.length; at += READ_PIECE_BYTES) {
				const handlers = this.#requests.get(id);
				if (!handlers) break;
				handlers.onData(bytes.subarray(at, at + READ_PIECE_BYTES));
			}
		});
		on("http.done", head => {
			const id = Number(head.id);
			const handlers = this.#requests.get(id);
			this.#requests.delete(id);
			handlers?.onDone(typeof head.error === "string" ? new Error(head.error) : undefined);
		});
	}

	get(url: string, headers: ReadonlyArray<readonly [string, string]>, handlers: HttpHandlers): HttpRequest {
		const id = this.#next++;
		this.#requests.set(id, handlers);
		call("http", "get", [id, url, headers]);
		return {
			abort: (reason: string) => {
				if (this.#requests.has(id)) call("http", "abort", [id, reason]);
			},
		};
	}

	/** Requests whose onDone has not run yet (a leak check for the tests). */
	get open(): number {
		return this.#requests.size;
	}
}
