/*
 * The one assembly of a simulated node (docs/testing.md "The simulated node"): a flash laid out by
 * partitions.csv, the simulated bootloader (idf/bootloader.ts, provisioning a factory image into an
 * empty flash), the update partition and boot control on that flash (idf/), the rollback clock
 * started at power-on as device/rollback-clock.ts starts it, and the firmware (startFirmware) on
 * the ports the caller chooses: real or virtual timers, a broker session or an in-memory one, a
 * real or an in-memory HTTP client, a file or a memory store. The node process
 * (host/sim/boot.ts), the in-process device against a real cloud (tests/support/device-rig.ts),
 * the fast lane's node on the virtual clock (tests/unit/support/sim-node.ts) and the power-cut
 * sweep (tests/power-cut.test.ts) all call assembleNode.
 */
import {readFileSync} from "node:fs";
import {createDigest} from "../adapters/digest";
import {HostDevice} from "../adapters/host-device";
import {JsonFileStore} from "../adapters/key-value-store";
import {FlashBootControl, type RestartReason} from "../../idf/boot-control";
import {boot, NoBootableImageError, provision, type BootResult} from "../../idf/bootloader";
import type {FlashDevice} from "../../idf/flash-device";
import {FlashUpdatePartition} from "../../idf/update-partition";
import {type Firmware, type Product, startFirmware} from "../../ota/firmware";
import {hostOtaOptions, type OtaOptions, resolveOtaOptions} from "../../ota/options";
import type {HttpClient} from "../../ota/ports";
import {RollbackClock} from "../../ota/rollback-clock";
import type {KeyValueStore, Log, MqttSession, Timers} from "../../rainmaker/ports";
import type {TopicForm} from "../../rainmaker/topics";

/** A flash erase or write, seen before it happens. */
export type FlashOperation =
	| {readonly kind: "erase"; readonly offset: number; readonly length: number}
	| {readonly kind: "write"; readonly offset: number; readonly length: number; readonly data: Uint8Array};

/** A simulated chip whose flash the assembly may close at power-off (a HostDevice closes its file). */
export type SimulatedChip = FlashDevice & {close?(): void};

export interface NodeAssemblyOptions {
	readonly nodeId: string;
	/**
	 * The flash: a file (created erased when missing; `sync: false` skips the fdatasync after each
	 * operation; `onOperation` sees every erase and write before it happens, from the open on), or
	 * a chip opened by the caller (a counting flash, a fctry partition written first). The node
	 * owns it from here and closes it at power-off or when the boot fails.
	 */
	readonly flash:
		{readonly file: string; readonly sync?: boolean; readonly onOperation?: FlashObserver} | SimulatedChip;
	/** Written into ota_0 of an empty flash (bytes or a file); without it such a boot throws NoBootableImageError. */
	readonly factoryImage?: Uint8Array | string;
	/** Runs once the factory image is written, before the bootloader runs. */
	readonly onProvisioned?: () => void;
	/** Real (HostTimers) or virtual (VirtualTimers) time: the rollback clock and the firmware's timers. */
	readonly timers: Timers;
	readonly log: Log;
	/** The rmaker_ota store, or the path of its JSON file (host/adapters/key-value-store.ts). */
	readonly store: KeyValueStore | string;
	/** Where the product's `persist` params are kept, or the path of its JSON file (docs/product.md). */
	readonly paramStore?: KeyValueStore | string;
	/** The product built on the node (docs/product.md); without it the node has only the OTA service. */
	readonly product?: Product;
	/** Opens the MQTT session when the firmware starts (it may depend on the image the bootloader picked). */
	readonly session: (booted: BootResult) => MqttSession;
	readonly http: HttpClient;
	/** esp_restart and the rollback's reboot: on a chip neither returns; here the caller decides. */
	readonly restart: (reason: RestartReason) => void;
	readonly ota?: Partial<OtaOptions>;
	readonly topicForm?: TopicForm;
	/** info.platform (default: what the boot control says, the eFuse's chip). */
	readonly platform?: string;
	/** "now" (default): the firmware starts with the assembly; "later": the caller calls start() once its network is up. */
	readonly firmwareStart?: "now" | "later";
}

/** A powered-on simulated node. */
export interface SimulatedNode {
	readonly device: SimulatedChip;
	readonly booted: BootResult;
	readonly boot: FlashBootControl;
	/** Started at power-on; the firmware's rollback guard adopts it. */
	readonly rollbackClock: RollbackClock;
	/** The firmware, once started. */
	readonly firmware: Firmware | undefined;
	/** Starts the firmware (what main() does once the network is up); a second call returns the same firmware. */
	start(): Firmware;
	/** Stops the firmware and the rollback clock and closes the flash; the state stays in the flash and the store. */
	powerOff(): void;
}

export type FlashObserver = (operation: FlashOperation) => void;

/** Lets `observer` see every erase and write of the chip's flash before it happens (a power cut, a recording). */
export function observeFlash(device: FlashDevice, observer: FlashObserver): void {
	const flash = device.flash;
	const erase = flash.erase.bind(flash);
	const write = flash.write.bind(flash);
	flash.erase = (offset: number, length: number) => {
		observer({kind: "erase", offset, length});
		erase(offset, length);
	};
	flash.write = (offset: number, data: Uint8Array) => {
		observer({kind: "write", offset, length: data.length, data});
		write(offset, data);
	};
}

function openChip(flash: NodeAssemblyOptions["flash"]): SimulatedChip {
	if (!("file" in flash)) return flash;
	const device = HostDevice.open({flashFile: flash.file, sync: flash.sync});
	if (flash.onOperation) observeFlash(device, flash.onOperation);
	return device;
}

/** Boots the flash (provisioning the factory image into an empty one), starts the rollback clock and, unless told to wait, the firmware. */
export function assembleNode(options: NodeAssemblyOptions): SimulatedNode {
	const {log, timers, paramStore} = options;
	const device = openChip(options.flash);
	let booted: BootResult;
	try {
		booted = bootOrProvision(device, options);
	} catch (error) {
		device.close?.();
		throw error;
	}
	for (const line of booted.log) log.info(`boot: ${line}`);
	log.info(
		`boot: running ${booted.label} (${booted.info.projectName} ${booted.info.version}), state ${booted.state}`,
	);
	const bootControl = new FlashBootControl(device, booted, {restart: options.restart}, createDigest);
	// As on the device (device/rollback-clock.ts): the new image's rollback clock starts before the network.
	const rollbackClock = new RollbackClock({
		boot: bootControl,
		timers,
		log,
		rollbackWaitSeconds: resolveOtaOptions(options.ota, hostOtaOptions).rollbackWaitSeconds,
	});
	let firmware: Firmware | undefined;
	let on = true;
	const node: SimulatedNode = {
		device,
		booted,
		boot: bootControl,
		rollbackClock,
		get firmware() {
			return firmware;
		},
		start() {
			if (!on) throw new Error(`node ${options.nodeId} is powered off`);
			firmware ??= startFirmware(
				{
					session: options.session(booted),
					timers,
					log,
					store: typeof options.store === "string" ? new JsonFileStore(options.store) : options.store,
					http: options.http,
					partition: new FlashUpdatePartition(device, booted.slot, createDigest),
					boot: bootControl,
					createDigest,
					rollbackClock,
					paramStore: typeof paramStore === "string" ? new JsonFileStore(paramStore) : paramStore,
				},
				{
					nodeId: options.nodeId,
					topicForm: options.topicForm,
					platform: options.platform,
					ota: options.ota,
					otaDefaults: hostOtaOptions,
					product: options.product,
				},
			);
			return firmware;
		},
		powerOff() {
			if (!on) return;
			on = false;
			rollbackClock.stop();
			firmware?.stop();
			firmware = undefined;
			device.close?.();
		},
	};
	if ((options.firmwareStart ?? "now") === "now") {
		try {
			node.start();
		} catch (error) {
			node.powerOff();
			throw error;
		}
	}
	return node;
}

function bootOrProvision(device: FlashDevice, options: NodeAssemblyOptions): BootResult {
	try {
		return boot(device, createDigest);
	} catch (error) {
		const image = options.factoryImage;
		if (!(error instanceof NoBootableImageError) || image === undefined) throw error;
		options.log.info(
			`Empty flash: provisioning ${typeof image === "string" ? image : `the ${image.length}-byte factory image`} into ota_0`,
		);
		provision(device, typeof image === "string" ? new Uint8Array(readFileSync(image)) : image);
		options.onProvisioned?.();
		return boot(device, createDigest);
	}
}
