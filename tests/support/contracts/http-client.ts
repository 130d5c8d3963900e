/*
 * The HttpClient contract (ota/ports.ts), for every adapter: one streamed GET per call, every
 * callback asynchronous (none inside get() or abort()), onDone exactly once and last, no redirect
 * followed, a body cut short or a transfer stopped ends with an Error. Against a real HTTP server on
 * 127.0.0.1; "nothing more came" is checked once the server's response closed and the adapter
 * says it is settled.
 */
import {strict as assert} from "node:assert";
import {randomBytes} from "node:crypto";
import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import type {AddressInfo, Socket} from "node:net";
import type {HttpClient, HttpRequest} from "../../../ota/ports";
import {waitUntil} from "../wait";

export interface HttpClientSubject {
	readonly client: HttpClient;
	/** Largest chunk the adapter hands to onData. */
	readonly maxChunk: number;
	/** Resolves once the adapter can call no handler any more (default: the next turns of the event loop). */
	settled?(): Promise<void>;
}

interface Transfer {
	readonly events: string[];
	status?: number;
	readonly headers: {[name: string]: string | undefined};
	body: Buffer;
	error?: Error;
	request?: HttpRequest;
	/** Set while get() or abort() runs: a callback then is a broken promise. */
	inside: boolean;
	readonly done: Promise<void>;
}

function turns(count: number): Promise<void> {
	return count === 0
		? Promise.resolve()
		: new Promise(resolve => setImmediate(() => void turns(count - 1).then(resolve)));
}

function start(
	client: HttpClient,
	url: string,
	options: {headers?: [string, string][]; stopAtHeaders?: boolean} = {},
): Transfer {
	const parts: Buffer[] = [];
	let resolveDone: () => void = () => {};
	const transfer: Transfer = {
		events: [],
		headers: {},
		body: Buffer.alloc(0),
		inside: true,
		done: new Promise<void>(resolve => (resolveDone = resolve)),
	};
	const note = (event: string) => transfer.events.push(transfer.inside ? `${event} (synchronous)` : event);
	try {
		transfer.request = client.get(url, options.headers ?? [], {
			onHeaders(status, header) {
				note("headers");
				transfer.status = status;
				for (const name of ["content-length", "location", "x-thing"]) transfer.headers[name] = header(name);
				return !options.stopAtHeaders;
			},
			onData(chunk) {
				note(`data ${chunk.length}`);
				parts.push(Buffer.from(chunk));
			},
			onDone(error) {
				note(error ? "done error" : "done");
				transfer.error = error;
				transfer.body = Buffer.concat(parts);
				resolveDone();
			},
		});
	} finally {
		transfer.inside = false;
	}
	return transfer;
}

function abort(transfer: Transfer, reason: string): void {
	transfer.inside = true;
	try {
		transfer.request!.abort(reason);
	} finally {
		transfer.inside = false;
	}
}

export function httpClientContract(name: string, open: () => Promise<HttpClientSubject>): void {
	describe(`HttpClient contract (ota/ports.ts): ${name}`, () => {
		let subject: HttpClientSubject;
		let server: Server;
		let base: string;
		let handler: (request: IncomingMessage, response: ServerResponse) => void;
		const sockets = new Set<Socket>();
		let responsesOpen = 0;
		const body = randomBytes(70_000);

		/** Every response of the server closed and the adapter is settled: no callback can come any more. */
		async function quiet(): Promise<void> {
			await waitUntil(() => responsesOpen === 0, "the server's responses to close");
			await (subject.settled ? subject.settled() : turns(3));
		}

		before(async () => {
			subject = await open();
			server = createServer((request, response) => {
				responsesOpen++;
				response.on("close", () => responsesOpen--);
				handler(request, response);
			});
			server.on("connection", socket => {
				sockets.add(socket);
				socket.on("close", () => sockets.delete(socket));
			});
			await new Promise<void>(resolve => server.listen(0, "127.0.0.1", () => resolve()));
			base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		});
		after(async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>(resolve => server.close(() => resolve()));
		});

		it("streams a body: status and lower-case headers, then bounded chunks, then onDone() once, last, all asynchronous", async () => {
			let range: string | undefined;
			handler = (request, response) => {
				range = request.headers["range"];
				response.writeHead(200, {"Content-Length": String(body.length), "X-Thing": "1"});
				response.end(body);
			};
			const transfer = start(subject.client, `${base}/fw.bin`, {headers: [["Range", "bytes=0-"]]});
			assert.equal(transfer.events.length, 0, "no callback inside get()");
			await transfer.done;
			await quiet();
			assert.equal(transfer.error, undefined);
			assert.equal(range, "bytes=0-", "the request headers are sent");
			assert.equal(transfer.status, 200);
			assert.equal(transfer.headers["content-length"], String(body.length));
			assert.equal(transfer.headers["x-thing"], "1");
			assert.ok(transfer.body.equals(body), "the whole body, in order");
			assert.equal(transfer.events[0], "headers");
			assert.equal(transfer.events.at(-1), "done");
			assert.equal(transfer.events.filter(e => e.startsWith("done")).length, 1);
			const sizes = transfer.events.filter(e => e.startsWith("data")).map(e => Number(e.split(" ")[1]));
			assert.ok(
				Math.max(...sizes) <= subject.maxChunk,
				`chunks of at most ${subject.maxChunk}: ${Math.max(...sizes)}`,
			);
			assert.ok(!transfer.events.some(e => e.endsWith("(synchronous)")), transfer.events.join(", "));
		});

		it("delivers a redirect as status and location without following it", async () => {
			let requests = 0;
			handler = (_request, response) => {
				requests++;
				response.writeHead(302, {Location: `${base}/elsewhere`, "Content-Length": "0"});
				response.end();
			};
			const transfer = start(subject.client, `${base}/redirect`, {stopAtHeaders: true});
			await transfer.done;
			await quiet();
			assert.equal(transfer.status, 302);
			assert.equal(transfer.headers["location"], `${base}/elsewhere`);
			assert.equal(requests, 1, "not followed");
		});

		it("onHeaders returning false stops the transfer: no data, onDone once with an Error (the body was not complete)", async () => {
			handler = (_request, response) => {
				response.writeHead(200, {"Content-Length": String(body.length)});
				response.end(body);
			};
			const transfer = start(subject.client, `${base}/refused`, {stopAtHeaders: true});
			await transfer.done;
			await quiet();
			assert.deepEqual(transfer.events, ["headers", "done error"]);
			assert.ok(transfer.error instanceof Error);
		});

		it("a body cut short ends with one onDone(Error)", async () => {
			handler = (_request, response) => {
				response.writeHead(200, {"Content-Length": "50000"});
				response.write(body.subarray(0, 3000), () => response.destroy());
			};
			const transfer = start(subject.client, `${base}/cut`);
			await transfer.done;
			await quiet();
			assert.ok(transfer.error instanceof Error);
			assert.ok(transfer.body.length <= 3000);
			assert.equal(transfer.events.filter(e => e.startsWith("done")).length, 1);
			assert.equal(transfer.events.at(-1), "done error");
		});

		it("abort(): onDone does not run inside abort(); it runs once, asynchronously, with an Error naming the reason; no data follows", async () => {
			let stalled: ServerResponse | undefined;
			handler = (_request, response) => {
				response.writeHead(200, {"Content-Length": String(body.length)});
				response.write(body.subarray(0, 2048));
				stalled = response;
			};
			const transfer = start(subject.client, `${base}/stall`);
			await waitUntil(() => transfer.events.some(e => e.startsWith("data")), "the first bytes");
			abort(transfer, "stalled for the contract");
			assert.ok(
				!transfer.events.some(e => e.startsWith("done")),
				`onDone ran inside abort(): ${transfer.events.join(", ")}`,
			);
			const dataBefore = transfer.events.filter(e => e.startsWith("data")).length;
			stalled!.end(body.subarray(2048, 8192)); // more data, now that the client gave up
			await transfer.done;
			await quiet();
			assert.match(String(transfer.error?.message), /stalled for the contract/);
			assert.equal(transfer.events.filter(e => e.startsWith("data")).length, dataBefore, "no data after abort()");
			assert.equal(transfer.events.filter(e => e.startsWith("done")).length, 1);
			assert.ok(!transfer.events.some(e => e.endsWith("(synchronous)")), transfer.events.join(", "));
		});

		it("abort() after onDone changes nothing", async () => {
			handler = (_request, response) => {
				response.writeHead(200, {"Content-Length": "10"});
				response.end(body.subarray(0, 10));
			};
			const transfer = start(subject.client, `${base}/small`);
			await transfer.done;
			abort(transfer, "too late");
			await quiet();
			assert.equal(transfer.error, undefined);
			assert.deepEqual(transfer.events.slice(-1), ["done"]);
			assert.equal(transfer.events.filter(e => e.startsWith("done")).length, 1);
		});

		it("a refused connection ends in one onDone(Error), asynchronously", async () => {
			const closed = createServer();
			await new Promise<void>(resolve => closed.listen(0, "127.0.0.1", () => resolve()));
			const port = (closed.address() as AddressInfo).port;
			await new Promise<void>(resolve => closed.close(() => resolve()));
			const transfer = start(subject.client, `http://127.0.0.1:${port}/fw.bin`);
			assert.equal(transfer.events.length, 0, "no callback inside get()");
			await transfer.done;
			await (subject.settled ? subject.settled() : turns(3));
			assert.deepEqual(transfer.events, ["done error"]);
			assert.ok(transfer.error instanceof Error);
		});
	});
}
