/*
 * The Node side of the real-XS lane: one xsnap worker running the compiled core and the guest
 * (tests/xs/guest), and the Node ends of its ports: a real MQTT client (the host adapter) to a
 * real broker, real HTTP GETs (the host adapter, cut into device-sized chunks), a virtual clock,
 * the key-value store, a counting/verifying partition, a fixture boot control and node:crypto
 * digests. Guest calls are answered synchronously; everything that happens on the Node side for
 * the guest (a timer due, a PUBACK, an HTTP chunk) is queued and delivered as its own command,
 * in order, never nested inside another.
 */
import {readFileSync} from "node:fs";
import {HostHttpClient} from "../../../host/adapters/http-client";
import {MemoryStore} from "../../../host/adapters/key-value-store";
import {fromJson, toJson} from "../../../rainmaker/stored-value";
import {HostMqttSession} from "../../../host/adapters/mqtt-session";
import {VirtualTimers} from "../../../host/adapters/virtual-timers";
import {createDigest} from "../../../host/adapters/digest";
import type {TimerHandle} from "../../../rainmaker/ports";
import type {Digest, HttpRequest} from "../../../ota/ports";
import {FixtureBoot} from "../../support/ota-rig";
import {RecordingLog} from "../../support/recording-log";
import {decodeFrame, encodeFrame, type FrameHead} from "../guest/frame";
import type {XsMemoryStats} from "../guest/xsnap";
import {compileGuest} from "./compile";
import {CountingPartition} from "./counting-partition";
import {type CreationSizes, ESP32_CREATION, type Meter, XsWorker} from "./xs-worker";

/** creation.stack of the firmware's manifest.json. */
function manifestStack(): number {
	const manifest = JSON.parse(readFileSync(new URL("../../../manifest.json", import.meta.url), "utf8")) as {
		creation?: {stack?: unknown};
	};
	const stack = manifest.creation?.stack;
	if (typeof stack !== "number" || !Number.isInteger(stack) || stack <= 0)
		throw new Error("manifest.json has no creation.stack (slots) for the XS lane");
	return stack;
}

/** Header names the HTTP stand-in passes into XS (the port reads headers by name). */
const FORWARDED_HEADERS = [
	"content-length",
	"content-range",
	"content-type",
	"location",
	"accept-ranges",
	"transfer-encoding",
];

/**
 * The lane's creation sizes: the plain esp32 chunk and slot sizes and increments (so the heap
 * grows in small steps and any growth shows), with the stack the firmware's manifest.json grants
 * (counted in slots, the same on the device). The plain esp32 stack of 384 slots overflows in
 * the approval flow: the otaurl handler reports, installs and starts the download in one call
 * chain, about 450-520 slots deep here (the bridge adds a few frames the device does not have).
 */
export const LANE_CREATION: CreationSizes = Object.freeze({...ESP32_CREATION, stack: manifestStack()});

export interface XsGuestOptions {
	readonly nodeId: string;
	/** mqtt://127.0.0.1:<port> of the broker; no session when absent. */
	readonly brokerUrl?: string;
	readonly creation?: CreationSizes;
	/** Largest HTTP chunk handed into XS (a device's socket delivers about this much). Default 1460. */
	readonly httpChunk?: number;
	/** Slot size of the partition stand-in. Default 0x1E0000 (partitions.csv). */
	readonly partitionCapacity?: number;
	readonly verifyImage?: boolean;
	/** Fixture (relative to the fixture images folder) of the running image. */
	readonly runningImage?: string;
	/** The module to load (default: the compiled guest entry). */
	readonly entry?: string;
}

export interface MeterTotal {
	count: number;
	/** XS compute of the events, as the worker metered them. */
	compute: number;
	/** Of that, the part the guest measured inside the bridge (framing and calls: native on the device). */
	bridge: number;
}

export class XsGuest {
	readonly timers = new VirtualTimers();
	readonly log = new RecordingLog();
	readonly store = new MemoryStore();
	readonly partition: CountingPartition;
	readonly boot: FixtureBoot;
	/** Failures inside XS that no caller saw (a throwing callback, a failed event). */
	readonly faults: string[] = [];
	/** What the guest printed. */
	readonly printed: string[] = [];
	/** XS compute and count per event type. */
	readonly meters = new Map<string, MeterTotal>();
	/** The meter of the last command. */
	lastMeter: Meter | undefined;
	readonly worker: XsWorker;
	readonly #session: HostMqttSession | undefined;
	readonly #http: HostHttpClient;
	readonly #timerHandles = new Map<number, TimerHandle>();
	readonly #requests = new Map<number, HttpRequest>();
	readonly #digests = new Map<number, Digest>();
	#nextDigest = 1;
	#readyName: string | undefined;
	#loadFailure: string | undefined;
	#outstanding = 0;

	private constructor(options: XsGuestOptions) {
		this.partition = new CountingPartition({
			capacity: options.partitionCapacity ?? 0x1e0000,
			verify: options.verifyImage,
		});
		this.boot = new FixtureBoot(options.runningImage);
		this.#http = new HostHttpClient({maxChunk: options.httpChunk ?? 1460});
		if (options.brokerUrl) {
			const session = new HostMqttSession({
				url: options.brokerUrl,
				clientId: options.nodeId,
				log: this.log,
				reconnectMinMs: 100,
			});
			session.onConnect = first => this.post("mqtt.connect", {first});
			session.onDisconnect = reason => this.post("mqtt.disconnect", {reason});
			session.onMessage = (topic, payload) => this.post("mqtt.message", {topic, payload});
			session.onBinaryMessage = (topic, payload) => this.post("mqtt.binary", {topic}, payload.slice());
			this.#session = session;
		}
		this.worker = new XsWorker({
			creation: options.creation ?? LANE_CREATION,
			onQuery: request => this.#answer(request),
			onPrint: line => this.printed.push(line),
		});
	}

	/** Compiles the guest, starts XS and loads it; throws unless the guest reported itself ready. */
	static async start(options: XsGuestOptions): Promise<XsGuest> {
		const entry = options.entry ?? compileGuest().entry;
		const guest = new XsGuest(options);
		// A failed import would otherwise pass unseen (xsnap prints nothing and exits 0): report it as a frame.
		await guest.worker
			.evaluate(
				`import(${JSON.stringify(entry)}).catch(error => {
			const json = new TextEncoder().encode(JSON.stringify({port: "harness", op: "loadFailed", args: [String(error)]}));
			const frame = new Uint8Array(4 + json.length);
			new DataView(frame.buffer).setUint32(0, json.length);
			frame.set(json, 4);
			issueCommand(frame.buffer);
		});`,
			)
			.catch(async error => {
				await guest.close();
				throw error;
			});
		if (guest.#readyName === undefined) {
			await guest.close();
			throw new Error(`the XS guest did not load: ${guest.#loadFailure ?? "it reported nothing"}`);
		}
		return guest;
	}

	get ready(): string | undefined {
		return this.#readyName;
	}

	/** Sends a driver request to the guest now (queued behind pending events) and returns its value. */
	async request(type: string, head: FrameHead = {}, bytes?: Uint8Array): Promise<unknown> {
		const {reply, meter} = await this.worker.command(encodeFrame({...head, type}, bytes));
		const answer = decodeFrame(reply).head;
		this.#count(type, meter, typeof answer.bridge === "number" ? answer.bridge : 0);
		if (typeof answer.error === "string") throw new Error(`XS guest, ${type}: ${answer.error}`);
		return answer.value;
	}

	/** Queues an event for the guest (timer due, MQTT, HTTP); failures become faults. */
	post(type: string, head: FrameHead = {}, bytes?: Uint8Array, then?: (value: unknown) => void): void {
		this.#outstanding++;
		this.request(type, head, bytes)
			.then(
				value => then?.(value),
				error => {
					this.faults.push(`${type}: ${error instanceof Error ? error.message : String(error)}`);
				},
			)
			.finally(() => {
				this.#outstanding--;
			});
	}

	/** Resolves once no event is queued or running. */
	async settle(): Promise<void> {
		while (this.#outstanding > 0) await new Promise(resolve => setImmediate(resolve));
	}

	/** Advances the virtual clock (due timers become events) and waits for the guest to settle. */
	async advance(ms: number): Promise<void> {
		this.timers.advance(ms);
		await this.settle();
	}

	memory(options: {collect?: boolean; reset?: boolean} = {}): Promise<XsMemoryStats> {
		return this.request("memory", options) as Promise<XsMemoryStats>;
	}

	/** Lets XS take at most `bytes` more from the system than it holds now: beyond, the worker aborts (not enough memory). */
	async limitGrowth(bytes: number): Promise<number> {
		return Number(await this.request("memory.limit", {bytes}));
	}

	async close(): Promise<void> {
		this.#session?.close();
		for (const request of this.#requests.values()) request.abort("closing");
		await this.worker.close().catch(() => {});
	}

	#count(type: string, meter: Meter, bridge: number): void {
		this.lastMeter = meter;
		const total = this.meters.get(type) ?? {count: 0, compute: 0, bridge: 0};
		total.count++;
		total.compute += meter.compute;
		total.bridge += bridge;
		this.meters.set(type, total);
	}

	#answer(request: Uint8Array): Uint8Array {
		let port = "?";
		let op = "?";
		try {
			const frame = decodeFrame(request);
			const {head} = frame;
			const bytes = Array.isArray(head.ref)
				? this.#eventBytes(Number(head.ref[0]), Number(head.ref[1]))
				: frame.bytes;
			port = String(head.port);
			op = String(head.op);
			const args = Array.isArray(head.args) ? (head.args as unknown[]) : [];
			const result = this.#call(port, op, args, bytes);
			return result instanceof Uint8Array
				? encodeFrame({value: null}, result)
				: encodeFrame({value: result ?? null});
		} catch (error) {
			return encodeFrame({error: error instanceof Error ? error.message : String(error)});
		}
	}

	/** Bytes of the frame of the event the guest is handling (a chunk it passes on by reference). */
	#eventBytes(offset: number, length: number): Uint8Array {
		const event = this.worker.current;
		if (
			!event ||
			!Number.isInteger(offset) ||
			!Number.isInteger(length) ||
			offset < 0 ||
			offset + length > event.length
		)
			throw new Error(`bad reference to the event's bytes (${offset}+${length})`);
		return event.subarray(offset, offset + length);
	}

	#call(port: string, op: string, args: unknown[], bytes: Uint8Array): unknown {
		switch (`${port}.${op}`) {
			case "harness.ready":
				this.#readyName = String(args[0]);
				return null;
			case "harness.loadFailed":
				this.#loadFailure = String(args[0]);
				return null;
			case "harness.fault":
				this.faults.push(`${String(args[0])}: ${String(args[1])}\n${String(args[2])}`);
				return null;
			case "log.info":
			case "log.warn":
			case "log.error":
				this.log[op as "info" | "warn" | "error"](String(args[0]));
				return null;
			case "timers.set": {
				const id = Number(args[0]);
				this.#timerHandles.set(
					id,
					this.timers.set(() => {
						this.#timerHandles.delete(id);
						this.post("timer", {id});
					}, Number(args[1])),
				);
				return null;
			}
			case "timers.clear":
				this.timers.clear(this.#timerHandles.get(Number(args[0])));
				this.#timerHandles.delete(Number(args[0]));
				return null;
			case "timers.now":
				return this.timers.now();
			case "timers.epoch":
				return this.timers.epoch();
			case "store.get": {
				// typed values cross the bridge in the JSON form of rainmaker/stored-value.ts
				const value = this.store.get(String(args[0]));
				return value === undefined ? null : toJson(value);
			}
			case "store.set": {
				const value = fromJson(args[1]);
				if (!value) throw new Error(`store.set: not a stored value: ${JSON.stringify(args[1])}`);
				this.store.set(String(args[0]), value);
				return null;
			}
			case "store.delete":
				this.store.delete(String(args[0]));
				return null;
			case "partition.capacity":
				return this.partition.capacity;
			case "partition.begin":
				return this.partition.begin(Number(args[0]));
			case "partition.write":
				this.partition.write(bytes);
				return null;
			case "partition.written":
				return this.partition.written;
			case "partition.end":
				this.partition.end();
				return null;
			case "partition.abort":
				this.partition.abort();
				return null;
			case "boot.runningState":
				return this.boot.runningState();
			case "boot.runningHeader":
				return this.boot.runningHeader();
			case "boot.chipRevision":
				return this.boot.chipRevision();
			case "boot.minSecureVersion":
				return this.boot.minSecureVersion();
			case "boot.markValid":
				this.boot.markValid();
				return null;
			case "boot.rollback":
				this.boot.rollback();
				return null;
			case "boot.restart":
				this.boot.restart();
				return null;
			case "digest.create": {
				const id = this.#nextDigest++;
				this.#digests.set(id, createDigest(args[0] === "MD5" ? "MD5" : "SHA256"));
				return id;
			}
			case "digest.write":
				this.#digest(args[0]).write(bytes);
				return null;
			case "digest.close": {
				const digest = this.#digest(args[0]);
				this.#digests.delete(Number(args[0]));
				return digest.close();
			}
			case "http.get":
				this.#get(Number(args[0]), String(args[1]), args[2] as [string, string][]);
				return null;
			case "http.abort":
				this.#requests.get(Number(args[0]))?.abort(String(args[1]));
				return null;
		}
		if (port === "session") return this.#sessionCall(op, args, bytes);
		throw new Error(`no port operation ${port}.${op}`);
	}

	#digest(id: unknown): Digest {
		const digest = this.#digests.get(Number(id));
		if (!digest) throw new Error(`no digest ${String(id)}`);
		return digest;
	}

	#sessionCall(op: string, args: unknown[], bytes: Uint8Array): unknown {
		const session = this.#session;
		if (!session) throw new Error("this guest has no MQTT session (no brokerUrl)");
		switch (op) {
			case "connected":
				return session.connected;
			case "connect":
				session.connect();
				return null;
			case "close":
				session.close();
				return null;
			case "publish": {
				const id = Number(args[2]);
				session.publish(
					String(args[0]),
					String(args[1]),
					id ? error => this.post("mqtt.done", {id, error: error?.message}) : undefined,
				);
				return null;
			}
			case "publishBytes": {
				const id = Number(args[1]);
				session.publish(
					String(args[0]),
					bytes.slice(),
					id ? error => this.post("mqtt.done", {id, error: error?.message}) : undefined,
				);
				return null;
			}
			case "subscribe":
				session.subscribe(String(args[0]), args[1] === true);
				return null;
			case "unsubscribe":
				session.unsubscribe(String(args[0]));
				return null;
		}
		throw new Error(`no session operation ${op}`);
	}

	/**
	 * One GET for the guest. Its events (headers, chunks, end) go to XS one at a time, with a turn
	 * of Node's event loop between two of them: loopback delivers a whole image at once, which a
	 * device's TCP window never does, and without the pause every PUBACK would queue behind all
	 * chunks (and the reports waiting for them would pile up in XS as they never do on a device).
	 */
	#get(id: number, url: string, headers: [string, string][]): void {
		let stopped = false;
		const queue: {type: string; head: FrameHead; bytes?: Uint8Array; then?: (value: unknown) => void}[] = [];
		let pumping = false;
		const pump = () => {
			const next = queue.shift();
			if (!next) {
				pumping = false;
				return;
			}
			pumping = true;
			if (next.type === "http.data" && stopped) {
				this.#outstanding--;
				pump();
				return;
			}
			this.request(next.type, next.head, next.bytes)
				.then(
					value => next.then?.(value),
					error => {
						this.faults.push(`${next.type}: ${error instanceof Error ? error.message : String(error)}`);
					},
				)
				.finally(() => {
					this.#outstanding--;
					setImmediate(pump);
				});
		};
		const enqueue = (type: string, head: FrameHead, bytes?: Uint8Array, then?: (value: unknown) => void) => {
			this.#outstanding++;
			queue.push({type, head, bytes, then});
			if (!pumping) pump();
		};
		const request = this.#http.get(url, headers, {
			onHeaders: (status, header) => {
				const forwarded: {[name: string]: string} = {};
				for (const name of FORWARDED_HEADERS) {
					const value = header(name);
					if (value !== undefined) forwarded[name] = value;
				}
				// The guest answers later (its own command); a "stop" then aborts the transfer.
				enqueue("http.headers", {id, status, headers: forwarded}, undefined, proceed => {
					if (proceed !== true) {
						stopped = true;
						request.abort("stopped by the guest");
					}
				});
				return true;
			},
			onData: chunk => {
				if (!stopped) enqueue("http.data", {id}, chunk.slice());
			},
			onDone: error => {
				this.#requests.delete(id);
				enqueue("http.done", {id, error: error?.message});
			},
		});
		this.#requests.set(id, request);
	}
}
