/*
 * A simulated node for the fast lane: the real firmware (startFirmware with the real update
 * engine) on the host flash model (a flash file booted by the simulated bootloader, the host
 * update partition and boot control), an in-memory MQTT broker with a scripted cloud (otafetch is
 * answered with the node's current job), an in-memory HTTP server and the virtual clock. A reboot
 * boots the flash again and starts the firmware anew, as the supervisor does for a node process.
 * Assembled by host/sim/node-assembly.ts with the virtual clock and the firmware started once the
 * simulated network is up.
 */
import {answerGetStream, parseStreamTopic, type StreamAnswer} from "../../../host/cloud/streams";
import {streamTopic} from "../../../ota/stream-protocol";
import {createHash} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {HostDevice} from "../../../host/adapters/host-device";
import {MemoryStore} from "../../../host/adapters/key-value-store";
import {VirtualTimers} from "../../../host/adapters/virtual-timers";
import {assembleNode, type SimulatedNode} from "../../../host/sim/node-assembly";
import {buildAppImage} from "../../../host/tools/app-image";
import {provision, type BootResult} from "../../../idf/bootloader";
import type {Firmware, Product} from "../../../ota/firmware";
import type {OtaOptions} from "../../../ota/options";
import type {RollbackClock} from "../../../ota/rollback-clock";
import type {HttpClient} from "../../../ota/ports";
import type {KeyValueStore, StoredValue, TimerHandle} from "../../../rainmaker/ports";
import {RecordingLog} from "../../support/recording-log";
import {MemoryBroker} from "./memory-mqtt";
import {MemoryHttp} from "./memory-http";

export const V1 = buildAppImage({version: "1.0.0", payloadSize: 40_000});
export const V2 = buildAppImage({version: "2.0.0", payloadSize: 150_000});
export const V3 = buildAppImage({version: "3.0.0", payloadSize: 150_000});

export function md5(bytes: Uint8Array): string {
	return createHash("md5").update(bytes).digest("hex");
}

/** A store whose writes can be made to fail (a full NVS), and that counts them. */
export class FlakyStore implements KeyValueStore {
	readonly inner = new MemoryStore();
	/** Throw on set() when this returns true. */
	failSet: ((key: string) => boolean) | undefined;
	sets = 0;
	get(key: string) {
		return this.inner.get(key);
	}
	set(key: string, value: StoredValue): void {
		this.sets++;
		if (this.failSet?.(key)) throw new Error("ESP_ERR_NVS_NOT_ENOUGH_SPACE");
		this.inner.set(key, value);
	}
	delete(key: string): void {
		this.inner.delete(key);
	}
}

export interface CloudJob {
	ota_job_id: string;
	url: string;
	fw_version?: string;
	file_size?: number;
	file_md5?: string;
	metadata?: unknown;
	stream_id?: string;
}

export interface Status {
	ota_job_id: string;
	status: string;
	additional_info: string;
}

export const FAST: Partial<OtaOptions> = {
	startupFetchDelaySeconds: 0,
	requestFetchDelaySeconds: 0,
	rebootDelaySeconds: 0,
	downloadStallSeconds: 30,
};

export class SimNode {
	readonly nodeId: string;
	readonly dir = mkdtempSync(join(tmpdir(), "rmx-unit-"));
	readonly timers = new VirtualTimers();
	readonly broker = new MemoryBroker(this.timers);
	readonly http = new MemoryHttp(this.timers);
	readonly store = new FlakyStore();
	/** The application's persisted params (kept across reboots, as the flash is). */
	readonly paramStore = new MemoryStore();
	readonly log = new RecordingLog();
	readonly boots: BootResult[] = [];
	/** What the cloud answers to otafetch (undefined: nothing). */
	job: CloudJob | undefined;
	/** The cloud's MQTT file streams by stream id (host/cloud/streams.ts answers GetStream from them). */
	readonly streams = new Map<string, Uint8Array>();
	/** Changes the answers to one GetStream request (a test's lost, duplicated, reordered blocks...). */
	streamFault: ((answers: StreamAnswer[], request: number) => StreamAnswer[]) | undefined;
	/** GetStream requests the cloud received. */
	streamRequests = 0;
	/** Replaces the HTTP client (the real host client for URL parsing cases). */
	httpClient: HttpClient | undefined;
	session: ReturnType<MemoryBroker["session"]> | undefined;
	restarts = 0;
	readonly #options: Partial<OtaOptions>;
	readonly #product: Product | undefined;

	readonly #openDevice: (flashFile: string) => HostDevice;
	/** Virtual ms from power-on until the network is up and the firmware starts (main() after setup/network); "never": Wi-Fi never joins. */
	networkDelayMs: number | "never" = 0;
	#node: SimulatedNode | undefined;
	#networkUp: TimerHandle | undefined;

	/** `openDevice`: how the flash file is opened (a benchmark counts flash operations there). */
	constructor(
		options: {
			nodeId?: string;
			ota?: Partial<OtaOptions>;
			factory?: Uint8Array;
			openDevice?: (flashFile: string) => HostDevice;
			/** The product the firmware carries (docs/product.md). */
			product?: Product;
		} = {},
	) {
		this.#product = options.product;
		this.nodeId = options.nodeId ?? "unit-node";
		this.#options = {...FAST, ...options.ota};
		this.#openDevice = options.openDevice ?? (flashFile => HostDevice.open({flashFile, sync: false}));
		const device = this.#openDevice(join(this.dir, "flash.bin"));
		provision(device, options.factory ?? V1);
		device.close();
		this.broker.onPublish = message => {
			const stream = message.bytes ? parseStreamTopic(message.topic) : undefined;
			if (stream && stream.kind === "get/cbor" && stream.nodeId === this.nodeId) {
				let answers: StreamAnswer[] = Array.from(
					answerGetStream(this.streams.get(stream.streamId), message.bytes!),
					answer => ({
						kind: answer.kind,
						payload: answer.payload.slice(),
					}),
				);
				answers = this.streamFault?.(answers, this.streamRequests) ?? answers;
				this.streamRequests++;
				for (const answer of answers)
					this.broker.publishBytes(streamTopic(this.nodeId, stream.streamId, answer.kind), answer.payload);
			}
			if (message.topic === `node/${this.nodeId}/otafetch` && this.job)
				this.broker.publish(`node/${this.nodeId}/otaurl`, JSON.stringify(this.job));
			// As the cloud: a job the node finished (success, rejected) is not served again.
			if (message.topic === `node/${this.nodeId}/otastatus` && this.job) {
				const status = JSON.parse(message.payload) as Status;
				if (
					status.ota_job_id === this.job.ota_job_id &&
					(status.status === "success" || status.status === "rejected")
				)
					this.job = undefined;
			}
		};
	}

	/** Boots the flash and starts the firmware; runs the clock until the node has started. */
	powerOn(): BootResult {
		const node = assembleNode({
			nodeId: this.nodeId,
			flash: this.#openDevice(join(this.dir, "flash.bin")),
			timers: this.timers,
			log: this.log,
			store: this.store,
			paramStore: this.paramStore,
			product: this.#product,
			session: () => (this.session = this.broker.session(this.nodeId)),
			http: this.httpClient ?? this.http,
			restart: () => this.restarts++,
			ota: this.#options,
			topicForm: "plain",
			firmwareStart: "later",
		});
		this.#node = node;
		this.boots.push(node.booted);
		// As device/rollback-clock.ts: the clock starts at power-on, the firmware once the network is up.
		const start = () => {
			this.#networkUp = undefined;
			node.start();
		};
		if (this.networkDelayMs === 0) start();
		else if (this.networkDelayMs !== "never") this.#networkUp = this.timers.set(start, this.networkDelayMs);
		this.advance(0);
		return node.booted;
	}

	get device(): HostDevice | undefined {
		return this.#node?.device as HostDevice | undefined;
	}

	get firmware(): Firmware | undefined {
		return this.#node?.firmware;
	}

	/** The rollback clock of the last boot (started at power-on, before the network). */
	get rollbackClock(): RollbackClock | undefined {
		return this.#node?.rollbackClock;
	}

	powerOff(): void {
		this.timers.clear(this.#networkUp);
		this.#networkUp = undefined;
		this.#node?.powerOff();
		this.#node = undefined;
	}

	/** A restart the firmware asked for (or a power cycle). */
	reboot(): BootResult {
		this.powerOff();
		return this.powerOn();
	}

	advance(ms: number): void {
		this.timers.advance(ms);
	}

	/** Advances in steps of `step` ms until `condition` holds; throws after `limit` ms of virtual time. */
	until(condition: () => boolean, what: string, limit = 3_600_000, step = 100): void {
		for (let spent = 0; !condition(); spent += step) {
			if (spent >= limit)
				throw new Error(
					`not reached within ${limit} ms of virtual time: ${what}\n${this.log.messages().slice(-15).join("\n")}`,
				);
			this.timers.advance(step);
		}
	}

	statuses(): Status[] {
		return this.broker.on(`node/${this.nodeId}/otastatus`).map(message => JSON.parse(message.payload) as Status);
	}

	/** "status: text" of every report of `jobId`. */
	texts(jobId: string): string[] {
		return this.statuses()
			.filter(s => s.ota_job_id === jobId)
			.map(s => `${s.status}: ${s.additional_info}`);
	}

	last(jobId: string): Status | undefined {
		return this.statuses()
			.filter(s => s.ota_job_id === jobId)
			.at(-1);
	}

	infos(): unknown[] {
		return this.broker
			.on(`node/${this.nodeId}/params/local`)
			.map(m => (JSON.parse(m.payload) as {OTA?: {Info?: unknown}}).OTA?.Info)
			.filter(info => info !== undefined);
	}

	command(...args: string[]): string[] {
		const lines: string[] = [];
		this.firmware!.command("ota", args, line => lines.push(line));
		return lines;
	}

	/** Offers `job` (the cloud serves it), checks, and approves once it is offered. */
	offerAndApprove(job: CloudJob): void {
		this.job = job;
		this.command("check");
		this.until(() => this.firmware?.ota.offer?.jobId === job.ota_job_id, "the offer");
		const approved = this.command("start");
		if (!/approved/.test(approved[0] ?? "")) throw new Error(`ota start: ${approved.join(" / ")}`);
	}

	close(): void {
		this.powerOff();
		rmSync(this.dir, {recursive: true, force: true});
	}
}

/** A cloud job for `image` served at `url` (registered on the node's HTTP server unless `serve` is false). */
/** Runs an approved job's install to the reboot request, reboots, and waits for the job's success. */
export function finishInstall(sim: SimNode, jobId: string): void {
	sim.until(() => sim.firmware?.ota.state === "rebooting" && sim.restarts > 0, "the reboot request");
	sim.reboot();
	sim.until(() => sim.last(jobId)?.status === "success", "success");
}

export function jobFor(
	node: SimNode,
	jobId: string,
	image: Uint8Array,
	version: string,
	options: {url?: string; md5?: boolean; stream?: boolean} = {},
): CloudJob {
	const url = options.url ?? `http://cloud.test:8080/images/${jobId}.bin`;
	const job: CloudJob = {ota_job_id: jobId, url, fw_version: version, file_size: image.length};
	if (options.md5 !== false) job.file_md5 = md5(image);
	node.http.serve(url, {body: image});
	if (options.stream) {
		job.stream_id = `stream-${jobId}`;
		node.streams.set(job.stream_id, image);
	}
	return job;
}
