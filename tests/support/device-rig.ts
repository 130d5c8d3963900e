/*
 * A simulated device in the test process: a flash file booted by the simulated bootloader, the
 * firmware (startFirmware) on the host adapters against a real cloud (MQTT broker, HTTP(S)
 * downloads), and a reset that boots it again, as the supervisor does for the node process.
 * Assembled by host/sim/node-assembly.ts with real timers, a flash file and a JSON store.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {BootResult} from "../../idf/bootloader";
import {createDigest} from "../../host/adapters/digest";
import {writeEfuse} from "../../host/adapters/efuse";
import {HostDevice} from "../../host/adapters/host-device";
import {HostHttpClient} from "../../host/adapters/http-client";
import {HostMqttSession} from "../../host/adapters/mqtt-session";
import {HostTimers} from "../../host/adapters/timers";
import type {Cloud} from "../../host/cloud/cloud";
import {assembleNode, type SimulatedNode} from "../../host/sim/node-assembly";
import {boot} from "../../idf/bootloader";
import type {Firmware} from "../../ota/firmware";
import type {OtaOptions} from "../../ota/options";
import {RecordingLog} from "./recording-log";
import {waitUntil} from "./wait";

export interface SimDeviceOptions {
	nodeId: string;
	/** The factory image (bytes or a file path). */
	image: Uint8Array | string;
	ota?: Partial<OtaOptions>;
	secureVersion?: number;
	/** CA (PEM) for HTTPS downloads. */
	httpCa?: string;
}

/** Fast timings for tests; every one of them is an option of the firmware. */
export const FAST_OTA: Partial<OtaOptions> = {
	startupFetchDelaySeconds: 0,
	requestFetchDelaySeconds: 0,
	rebootDelaySeconds: 0,
	downloadStallSeconds: 2,
};

export class SimDevice {
	readonly dir = mkdtempSync(join(tmpdir(), "rmx-device-"));
	readonly flashFile = join(this.dir, "flash.bin");
	readonly log = new RecordingLog();
	readonly boots: BootResult[] = [];
	#node: SimulatedNode | undefined;
	#cloud: Cloud;
	#options: SimDeviceOptions;
	#resetting = false;

	constructor(cloud: Cloud, options: SimDeviceOptions) {
		this.#cloud = cloud;
		this.#options = options;
		if (options.secureVersion !== undefined) writeEfuse(this.flashFile, {secureVersion: options.secureVersion});
	}

	get nodeId(): string {
		return this.#options.nodeId;
	}

	/** Version of the image the bootloader started last. */
	get version(): string | undefined {
		return this.boots.at(-1)?.info.version;
	}

	/** Boots (provisioning the factory image into an empty flash) and starts the firmware. */
	powerOn(): BootResult {
		const node = assembleNode({
			nodeId: this.nodeId,
			flash: {file: this.flashFile, sync: false},
			factoryImage: this.#options.image,
			timers: new HostTimers(),
			log: this.log,
			store: join(this.dir, "nvs.json"),
			session: () => new HostMqttSession({url: this.#cloud.mqttUrl, clientId: this.nodeId, log: this.log}),
			http: new HostHttpClient({ca: this.#options.httpCa}),
			restart: () => {
				if (this.#resetting) return;
				this.#resetting = true;
				setImmediate(() => {
					this.powerOff();
					this.#resetting = false;
					this.powerOn();
				});
			},
			ota: {...FAST_OTA, ...this.#options.ota},
		});
		this.#node = node;
		this.boots.push(node.booted);
		return node.booted;
	}

	get firmware(): Firmware | undefined {
		return this.#node?.firmware;
	}

	powerOff(): void {
		this.#node?.powerOff();
		this.#node = undefined;
	}

	/** A boot without the firmware: the bootloader runs (and updates otadata, as on a real power-up). */
	inspect(): BootResult {
		const device = HostDevice.open({flashFile: this.flashFile, sync: false});
		try {
			return boot(device, createDigest);
		} finally {
			device.close();
		}
	}

	/** Runs `ota start` once the node has offered `jobId`. */
	async approveWhenOffered(jobId: string): Promise<void> {
		await this.#cloud.waitForStatus(this.nodeId, jobId, "delayed", 10_000);
		await waitUntil(() => this.firmware?.ota.offer?.jobId === jobId, "the offer in the node");
		const lines: string[] = [];
		this.firmware!.command("ota", ["start"], line => lines.push(line));
		if (!/approved/.test(lines[0] ?? "")) throw new Error(`ota start: ${lines.join(" / ")}`);
	}

	close(): void {
		this.powerOff();
		rmSync(this.dir, {recursive: true, force: true});
	}
}
