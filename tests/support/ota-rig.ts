/*
 * A firmware under test: the real node agent and OTA flow (startFirmware) on a real MQTT broker,
 * with a virtual clock for the OTA timers, a recording installer in place of the update engine,
 * and a scripted cloud that answers otafetch with otaurl.
 */
import {readFileSync} from "node:fs";
import {HostMqttSession} from "../../host/adapters/mqtt-session";
import {MemoryStore} from "../../host/adapters/key-value-store";
import {VirtualTimers} from "../../host/adapters/virtual-timers";
import {createDigest} from "../../host/adapters/digest";
import {type Firmware, startFirmware} from "../../ota/firmware";
import type {OtaOptions} from "../../ota/options";
import type {OtaJob} from "../../ota/otaurl";
import type {BootControl, HttpClient, ImageState, UpdatePartition} from "../../ota/ports";
import type {Installer, InstallOutcome, UpdateProgress} from "../../ota/update-engine";
import {startBroker, type TestBroker} from "./broker";
import {fixtureImage} from "./image-fixtures";
import {HEADER_PROBE_LENGTH} from "../../ota/image";
import {RecordingLog} from "./recording-log";
import {waitUntil} from "./wait";

/** Absolute path of a fixture image (tests/support/image-fixtures.ts). */
export function fixturePath(name: string): string {
	return fixtureImage(name);
}

/** A BootControl whose running image is a fixture file; state and calls are recorded. */
export class FixtureBoot implements BootControl {
	state: ImageState = "valid";
	readonly calls: string[] = [];
	#header: Uint8Array;
	minimumSecureVersion = 0;
	revision = 300;

	constructor(image = "synthetic/app-1.0.0.bin") {
		this.#header = new Uint8Array(readFileSync(fixturePath(image)).subarray(0, HEADER_PROBE_LENGTH));
	}
	runningState(): ImageState {
		return this.state;
	}
	runningHeader(): Uint8Array {
		return this.#header;
	}
	chipRevision(): number {
		return this.revision;
	}
	minSecureVersion(): number {
		return this.minimumSecureVersion;
	}
	markValid(): void {
		this.calls.push("markValid");
		this.state = "valid";
	}
	rollback(): void {
		this.calls.push("rollback");
	}
	restart(): void {
		this.calls.push("restart");
	}
}

/** The update port's double: records each job it is asked to install and ends it when the test says. */
export class RecordingInstaller implements Installer {
	readonly jobs: OtaJob[] = [];
	#done: ((outcome: InstallOutcome) => void) | undefined;
	stopped = false;

	get busy(): boolean {
		return this.#done !== undefined;
	}
	get progress(): UpdateProgress | undefined {
		const job = this.jobs.at(-1);
		return this.#done && job ? {jobId: job.jobId, attempt: 1, received: 0, total: job.fileSize} : undefined;
	}
	run(job: OtaJob, done: (outcome: InstallOutcome) => void): void {
		this.jobs.push(job);
		this.#done = done;
	}
	stop(): void {
		this.stopped = true;
		this.#done = undefined;
	}
	/** Ends the job: "rebooting", or a failed / rejected outcome with a text. */
	finish(outcome: "rebooting" | "failed" | "rejected", text = "test outcome"): void {
		const done = this.#done;
		this.#done = undefined;
		done?.(outcome === "rebooting" ? {kind: "rebooting"} : {kind: outcome, text});
	}
}

const unusedHttp: HttpClient = {
	get() {
		throw new Error("HttpClient must not be used in this test");
	},
};
const unusedPartition: UpdatePartition = {
	capacity: 0,
	written: 0,
	begin() {
		throw new Error("UpdatePartition must not be used in this test");
	},
	write() {},
	end() {},
	abort() {},
};

export interface OtaRig {
	broker: TestBroker;
	firmware: Firmware;
	timers: VirtualTimers;
	log: RecordingLog;
	store: MemoryStore;
	boot: FixtureBoot;
	installer: RecordingInstaller;
	nodeId: string;
	/** What the scripted cloud answers to the next otafetch: a payload (object → JSON), a raw string, or nothing. */
	offer: unknown;
	/** Number of otafetch messages the node sent. */
	fetches(): number;
	/** Parsed otastatus payloads, in order. */
	statuses(): {ota_job_id: string; status: string; additional_info: string; ts: number}[];
	/** Info values reported on params/local, in order. */
	infos(): unknown[];
	/** Waits (real time) until `condition` holds. */
	until(condition: () => boolean, what: string): Promise<void>;
	/**
	 * Resolves once everything the node published so far has reached the broker: a marker published
	 * on the node's own connection arrives after it (MQTT keeps one connection's order). The event to
	 * wait on before a "nothing was published" assertion, instead of a sleep.
	 */
	settled(): Promise<void>;
	/** Publishes on the node's params/remote. */
	write(payload: string): Promise<void>;
	close(): Promise<void>;
}

export async function startOtaRig(
	options: {
		ota?: Partial<OtaOptions>;
		boot?: FixtureBoot;
		store?: MemoryStore;
		nodeId?: string;
		prepare?: (broker: TestBroker) => void;
	} = {},
): Promise<OtaRig> {
	const nodeId = options.nodeId ?? "ota-node-1";
	const broker = await startBroker();
	options.prepare?.(broker);
	const timers = new VirtualTimers();
	const log = new RecordingLog();
	const store = options.store ?? new MemoryStore();
	const boot = options.boot ?? new FixtureBoot();
	const installer = new RecordingInstaller();
	const topic = (suffix: string) => `node/${nodeId}/${suffix}`;
	let settledCount = 0;
	const rig: OtaRig = {
		broker,
		timers,
		log,
		store,
		boot,
		installer,
		nodeId,
		offer: undefined,
		firmware: undefined as unknown as Firmware,
		fetches: () => broker.messages.filter(m => m.topic === topic("otafetch")).length,
		statuses: () => broker.messages.filter(m => m.topic === topic("otastatus")).map(m => JSON.parse(m.payload)),
		infos: () =>
			broker.messages
				.filter(m => m.topic === topic("params/local"))
				.map(m => JSON.parse(m.payload).OTA?.Info)
				.filter(info => info !== undefined),
		until: (condition, what) => waitUntil(condition, what),
		async settled() {
			await new Promise(resolve => setImmediate(resolve));
			const marker = `rig/settled/${++settledCount}`;
			await new Promise<void>((resolve, reject) =>
				session.publish(marker, "", error => (error ? reject(error) : resolve())),
			);
			await broker.waitFor(m => m.topic === marker);
		},
		write: payload => broker.publish(topic("params/remote"), payload),
		async close() {
			rig.firmware.stop();
			await broker.close();
		},
	};
	broker.aedes.on("publish", (packet, client) => {
		if (client && packet.topic === topic("otafetch") && rig.offer !== undefined) {
			const payload = typeof rig.offer === "string" ? rig.offer : JSON.stringify(rig.offer);
			void broker.publish(topic("otaurl"), payload);
		}
	});
	const session = new HostMqttSession({url: broker.url, clientId: nodeId, log});
	try {
		rig.firmware = startFirmware(
			{session, timers, log, store, http: unusedHttp, partition: unusedPartition, boot, createDigest},
			// the jobs name http:// URLs (the recording installer fetches nothing): the host's allowHttp, as the
			// URL is judged when the otaurl is parsed (docs/protocol.md §5.6)
			{nodeId, ota: {allowHttp: true, ...options.ota}},
			installer,
		);
	} catch (error) {
		await broker.close();
		throw error;
	}
	await waitUntil(() => rig.firmware.agent.started, "the node to start");
	await broker.waitFor(m => m.topic === topic("params/local/init"));
	return rig;
}
