/*
 * device/http-client.ts (Moddable `http` Request, streamed) driven by real HTTP and HTTPS servers
 * on 127.0.0.1 through the Request stand-in (Moddable's messages 1/2/3/4/5/-2, read(ArrayBuffer),
 * fragments of at most 1024 bytes).
 */
import {strict as assert} from "node:assert";
import {createServer, type Server, type IncomingMessage, type ServerResponse} from "node:http";
import {createServer as createHttpsServer} from "node:https";
import {createHash, randomBytes, X509Certificate} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {AddressInfo} from "node:net";
import {loadDevice} from "./support/moddable-loader";
import {HostTimers} from "../host/adapters/timers";
import {makeTestPki} from "../host/pki";
import type {TimerHandle, Timers} from "../rainmaker/ports";
import type {HttpClient, HttpHandlers} from "../ota/ports";
import {fragmentSetting, requestLog, requestsMade} from "./support/moddable/http";
import {waitUntil} from "./support/wait";

type HttpModule = {
	DeviceHttpClient: new (
		timers: Timers,
		config?: {trust?: {host?: string; certificates: ArrayBuffer[]}[]},
	) => HttpClient;
	READ_PIECE_BYTES: number;
	parseHttpUrl(url: string): {secure: boolean; host: string; port: number; path: string};
};

interface Outcome {
	status?: number;
	headers: {[name: string]: string | undefined};
	chunks: number[];
	body: Buffer;
	error?: Error;
	doneCalls: number;
}

/** Host timers that know how many are pending: a client with none pending and no open Request can call nothing more. */
class CountingTimers extends HostTimers {
	pending = 0;
	readonly #live = new Set<TimerHandle>();

	override set(callback: () => void, ms: number): TimerHandle {
		const handle: TimerHandle = super.set(() => {
			if (this.#live.delete(handle)) this.pending--;
			callback();
		}, ms);
		this.#live.add(handle);
		this.pending++;
		return handle;
	}

	override clear(handle: TimerHandle | undefined): void {
		if (handle && this.#live.delete(handle)) this.pending--;
		super.clear(handle);
	}
}

const timers = new CountingTimers();

/**
 * After the first onDone: waits until nothing can call the handlers any more (the Request, if one
 * was made, settled, and no timer of the client is pending), so a second onDone would be seen.
 */
async function quiescent(made: {readonly settled: Promise<void>} | undefined): Promise<void> {
	await made?.settled;
	await waitUntil(() => timers.pending === 0, "the client's timers to run");
}

function fetchWith(
	client: HttpClient,
	url: string,
	options: {headers?: [string, string][]; stopAtHeaders?: boolean; watch?: string[]} = {},
): {outcome: Promise<Outcome>; abort: (reason: string) => void; received: () => number; doneCalls: () => number} {
	const result: Outcome = {headers: {}, chunks: [], body: Buffer.alloc(0), doneCalls: 0};
	const parts: Buffer[] = [];
	let request: {abort(reason: string): void} | undefined;
	const made = requestsMade.length;
	const outcome = new Promise<Outcome>(resolve => {
		const handlers: HttpHandlers = {
			onHeaders(status, header) {
				result.status = status;
				for (const name of options.watch ?? ["content-length", "location"]) result.headers[name] = header(name);
				return !options.stopAtHeaders;
			},
			onData(chunk) {
				result.chunks.push(chunk.length);
				parts.push(Buffer.from(chunk));
			},
			onDone(error) {
				result.doneCalls++;
				result.error = error;
				result.body = Buffer.concat(parts);
				void quiescent(requestsMade[made]).then(() => resolve(result)); // catch a second onDone
			},
		};
		request = client.get(url, options.headers ?? [], handlers);
	});
	return {
		outcome,
		abort: reason => request?.abort(reason),
		received: () => parts.reduce((sum, part) => sum + part.length, 0),
		doneCalls: () => result.doneCalls,
	};
}

describe("device HTTP client (Moddable Request stand-in, real servers on 127.0.0.1)", () => {
	let mod: HttpModule;
	let client: HttpClient;
	let server: Server;
	let base: string;
	const body = randomBytes(70_000);
	let handler: (request: IncomingMessage, response: ServerResponse) => void;

	before(async () => {
		mod = await loadDevice<HttpModule>("http-client");
		client = new mod.DeviceHttpClient(timers);
		server = createServer((request, response) => handler(request, response));
		await new Promise<void>(resolve => server.listen(0, "127.0.0.1", () => resolve()));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	after(() => new Promise<void>(resolve => server.close(() => resolve())));

	it("streams a body in fragments of at most 1024 bytes, with status, lower-case headers and the request headers sent", async () => {
		let seenRange: string | undefined;
		handler = (request, response) => {
			seenRange = request.headers["range"];
			response.writeHead(200, {"Content-Length": String(body.length), "X-Thing": "1"});
			response.end(body);
		};
		const {outcome} = fetchWith(client, `${base}/fw.bin?sig=a%20b`, {headers: [["Range", "bytes=0-"]]});
		const result = await outcome;
		assert.equal(result.error, undefined);
		assert.equal(result.doneCalls, 1);
		assert.equal(result.status, 200);
		assert.equal(result.headers["content-length"], String(body.length));
		assert.equal(seenRange, "bytes=0-");
		assert.ok(result.chunks.length >= Math.ceil(body.length / 1024));
		assert.ok(Math.max(...result.chunks) <= 1024);
		assert.equal(
			createHash("sha256").update(result.body).digest("hex"),
			createHash("sha256").update(body).digest("hex"),
		);
		const sent = requestLog[requestLog.length - 1];
		assert.equal(sent.path, "/fw.bin?sig=a%20b");
		assert.equal(sent.response, undefined, "response must stay undefined (streaming)");
		assert.deepEqual(sent.headers, ["Range", "bytes=0-"]);
	});

	it("handles a chunked body without content-length", async () => {
		handler = (_request, response) => {
			response.writeHead(200);
			response.write(body.subarray(0, 5000));
			setTimeout(() => response.end(body.subarray(5000, 9000)), 10);
		};
		const result = await fetchWith(client, `${base}/chunked`).outcome;
		assert.equal(result.error, undefined);
		assert.equal(result.headers["content-length"], undefined);
		assert.ok(result.body.equals(body.subarray(0, 9000)));
	});

	it("delivers a redirect as status + location without following it", async () => {
		handler = (_request, response) => {
			response.writeHead(302, {Location: "http://127.0.0.1:1/elsewhere", "Content-Length": "0"});
			response.end();
		};
		const result = await fetchWith(client, `${base}/redirect`, {stopAtHeaders: true}).outcome;
		assert.equal(result.status, 302);
		assert.equal(result.headers["location"], "http://127.0.0.1:1/elsewhere");
		assert.ok(result.error instanceof Error, "stopping at the headers ends with an Error");
		assert.equal(result.doneCalls, 1);
	});

	it("reports a body cut short as an error (Moddable's message -2)", async () => {
		handler = (_request, response) => {
			response.writeHead(200, {"Content-Length": "50000"});
			response.write(body.subarray(0, 3000), () => response.destroy());
		};
		const result = await fetchWith(client, `${base}/cut`).outcome;
		assert.ok(result.error instanceof Error);
		assert.match(result.error.message, /Request error -2/);
		assert.equal(result.doneCalls, 1);
	});

	it("aborts: onDone runs once, asynchronously, with the reason, and no data follows", async () => {
		let stalled: ServerResponse | undefined;
		handler = (_request, response) => {
			response.writeHead(200, {"Content-Length": String(body.length)});
			response.write(body.subarray(0, 2048)); // then stall, and send more once the client gave up
			stalled = response;
		};
		const {outcome, abort, received, doneCalls} = fetchWith(client, `${base}/stall`);
		await waitUntil(() => received() === 2048, "the first 2048 bytes");
		abort("stalled");
		assert.equal(doneCalls(), 0, "onDone does not run inside abort()");
		stalled!.end(body.subarray(2048, 4096)); // more data, now that the client gave up
		const result = await outcome;
		assert.equal(result.body.length, 2048, "nothing after the abort");
		assert.match(String(result.error?.message), /aborted: stalled/);
		assert.equal(result.doneCalls, 1);
	});

	it("refuses bad URLs and header injection with a clear error through onDone", async () => {
		for (const [url, pattern] of [
			["ftp://x/y", /not an http\(s\) URL/],
			["http://:80/", /no host/],
			["http://h:99999/", /bad port/],
		] as const) {
			const result = await fetchWith(client, url).outcome;
			assert.match(String(result.error?.message), pattern);
		}
		const injected = await fetchWith(client, `${base}/x`, {headers: [["X-A", "1\r\nEvil: 2"]]}).outcome;
		assert.match(String(injected.error?.message), /bad HTTP header/);
	});

	it("parses URLs itself (XS has no URL class)", () => {
		assert.deepEqual(mod.parseHttpUrl("https://example.com/a/b?c=d#frag"), {
			secure: true,
			host: "example.com",
			port: 443,
			path: "/a/b?c=d",
		});
		assert.deepEqual(mod.parseHttpUrl("HTTP://10.0.0.1:8080"), {
			secure: false,
			host: "10.0.0.1",
			port: 8080,
			path: "/",
		});
		assert.deepEqual(mod.parseHttpUrl("http://[::1]:81/x"), {secure: false, host: "::1", port: 81, path: "/x"});
		assert.throws(() => mod.parseHttpUrl("http://user:pw@host/"), /credentials/);
	});

	/** The DER of another CA than the server's. */
	async function otherCa(dir: string): Promise<ArrayBuffer> {
		const other = makeTestPki(join(dir, "other"));
		const raw = new X509Certificate(other.caCert).raw;
		return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
	}

	it("downloads over HTTPS with the configured CA (SecureSocket in the Request dictionary)", async () => {
		const dir = mkdtempSync(join(tmpdir(), "device-https-"));
		try {
			const pki = makeTestPki(dir);
			const https = createHttpsServer(
				{key: pki.serverKey, cert: pki.serverCert + pki.caCert},
				(_request, response) => {
					response.writeHead(200, {"Content-Length": "5000"});
					response.end(body.subarray(0, 5000));
				},
			);
			await new Promise<void>(resolve => https.listen(0, "127.0.0.1", () => resolve()));
			try {
				const raw = new X509Certificate(pki.caCert).raw;
				const ca = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
				const secureClient = new mod.DeviceHttpClient(timers, {
					trust: [{host: "127.0.0.1", certificates: [ca]}],
				});
				const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}/fw.bin`;
				const result = await fetchWith(secureClient, url).outcome;
				assert.equal(result.error, undefined);
				assert.ok(result.body.equals(body.subarray(0, 5000)));
				const sent = requestLog[requestLog.length - 1];
				assert.equal((sent.secure as {protocolVersion?: number}).protocolVersion, 0x0303);
				// without the CA the server is not trusted
				const untrusted = await fetchWith(new mod.DeviceHttpClient(timers), url).outcome;
				assert.ok(untrusted.error instanceof Error);
				// a rule for another host does not apply: the download CA (the catch-all rule) does
				const other = new ArrayBuffer(8);
				await fetchWith(
					new mod.DeviceHttpClient(timers, {
						trust: [{host: "mqtt.example.com", certificates: [other]}, {certificates: [ca]}],
					}),
					url,
				).outcome;
				assert.equal((requestLog[requestLog.length - 1].secure as {certificate?: ArrayBuffer}).certificate, ca);
				// several roots: one per connection; a handshake that fails is made again with the next root,
				// and the root that worked comes first for that host afterwards
				const wrong = await otherCa(dir);
				const several = new mod.DeviceHttpClient(timers, {trust: [{certificates: [wrong, ca]}]});
				const before = requestLog.length;
				const second = await fetchWith(several, url).outcome;
				assert.equal(second.error, undefined);
				assert.deepEqual(
					requestLog.slice(before).map(sent => (sent.secure as {certificate?: ArrayBuffer}).certificate),
					[wrong, ca],
				);
				const again = requestLog.length;
				assert.equal((await fetchWith(several, url).outcome).error, undefined);
				assert.deepEqual(
					requestLog.slice(again).map(sent => (sent.secure as {certificate?: ArrayBuffer}).certificate),
					[ca],
					"the root that worked is tried first",
				);
				const none = await fetchWith(
					new mod.DeviceHttpClient(timers, {trust: [{certificates: [wrong, wrong]}]}),
					url,
				).outcome;
				assert.match(
					String(none.error?.message),
					/failed \(Request error -?\d+.*; tried 2 of 2 trusted roots\)/,
				);
			} finally {
				await new Promise<void>(resolve => https.close(() => resolve()));
			}
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	it("reads a TLS-record-sized fragment (16 KB) in pieces of at most 1460 bytes", async () => {
		fragmentSetting.bytes = 16 * 1024;
		try {
			handler = (_request, response) => {
				response.writeHead(200, {"Content-Length": String(body.length)});
				response.end(body);
			};
			const result = await fetchWith(client, `${base}/fw.bin`).outcome;
			assert.equal(result.error, undefined);
			assert.ok(result.body.equals(body));
			assert.equal(mod.READ_PIECE_BYTES, 1460);
			assert.ok(Math.max(...result.chunks) <= 1460, `largest piece ${Math.max(...result.chunks)}`);
			assert.ok(result.chunks.length >= Math.ceil(body.length / 1460));
		} finally {
			fragmentSetting.bytes = 1024;
		}
	});

	it("names the host and port in transfer errors", async () => {
		handler = (_request, response) => {
			response.writeHead(200, {"Content-Length": "100000"});
			response.write(body.subarray(0, 10), () => response.destroy());
		};
		const port = (server.address() as AddressInfo).port;
		const result = await fetchWith(client, `${base}/cut.bin`).outcome;
		assert.match(
			String(result.error?.message),
			new RegExp(`HTTP transfer from http://127\\.0\\.0\\.1:${port} failed`),
		);
	});
});
