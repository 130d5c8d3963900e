/*
 * A simulated device in the test process: a flash file booted by the simulated bootloader, the
 * firmware (startFirmware) on the host adapters against a real cloud (MQTT broker, HTTP(S)
 * downloads), and a reset that boots it again, as the supervisor does for the node process.
 */
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {boot, NoBootableImageError, provision, type BootResult} from "../../host/adapters/bootloader";
import {HostBootControl} from "../../host/adapters/boot-control";
import {createDigest} from "../../host/adapters/digest";
import {writeEfuse} from "../../host/adapters/efuse";
import {HostDevice} from "../../host/adapters/host-device";
import {HostHttpClient} from "../../host/adapters/http-client";
import {JsonFileStore} from "../../host/adapters/key-value-store";
import {HostMqttSession} from "../../host/adapters/mqtt-session";
import {HostTimers} from "../../host/adapters/timers";
import {HostUpdatePartition} from "../../host/adapters/update-partition";
import type {Cloud} from "../../host/cloud/cloud";
import {type Firmware, startFirmware} from "../../ota/firmware";
import {hostOtaOptions, type OtaOptions} from "../../ota/options";
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
	firmware: Firmware | undefined;
	#device: HostDevice | undefined;
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
		const device = HostDevice.open({flashFile: this.flashFile, sync: false});
		this.#device = device;
		let booted: BootResult;
		try {
			booted = boot(device, createDigest);
		} catch (error) {
			if (!(error instanceof NoBootableImageError)) throw error;
			const image = this.#options.image;
			provision(device, typeof image === "string" ? new Uint8Array(readFileSync(image)) : image);
			booted = boot(device, createDigest);
		}
		this.boots.push(booted);
		const restart = () => {
			if (this.#resetting) return;
			this.#resetting = true;
			setImmediate(() => {
				this.powerOff();
				this.#resetting = false;
				this.powerOn();
			});
		};
		this.firmware = startFirmware(
			{
				session: new HostMqttSession({url: this.#cloud.mqttUrl, clientId: this.nodeId, log: this.log}),
				timers: new HostTimers(),
				log: this.log,
				store: new JsonFileStore(join(this.dir, "nvs.json")),
				http: new HostHttpClient({ca: this.#options.httpCa}),
				partition: new HostUpdatePartition(device, booted.slot, createDigest),
				boot: new HostBootControl(device, booted, {restart}, createDigest),
				createDigest,
			},
			{nodeId: this.nodeId, ota: {...FAST_OTA, ...this.#options.ota}, otaDefaults: hostOtaOptions},
		);
		return booted;
	}

	powerOff(): void {
		this.firmware?.stop();
		this.firmware = undefined;
		this.#device?.close();
		this.#device = undefined;
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
