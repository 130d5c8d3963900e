/*
 * Every port of the core (rainmaker/ports.ts, ota/ports.ts) held to one contract suite
 * (tests/support/contracts/), run against each adapter: the host's (host/adapters/, idf/ on a flash
 * file) and the device's (device/, over the Moddable stand-ins of tests/support/moddable/). A new
 * adapter joins by adding one call here (docs/testing.md, "Port contracts").
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {createDigest} from "../host/adapters/digest";
import {JsonFileStore, MemoryStore} from "../host/adapters/key-value-store";
import {HostLog} from "../host/adapters/log";
import {VirtualTimers} from "../host/adapters/virtual-timers";
import type {DigestFactory} from "../ota/ports";
import type {KeyValueStore, Log} from "../rainmaker/ports";
import {digestContract} from "./support/contracts/digest";
import {keyValueStoreContract} from "./support/contracts/key-value-store";
import {logContract} from "./support/contracts/log";
import {timersContract} from "./support/contracts/timers";
import {preferenceStorage} from "./support/moddable/preference";
import {traceLines} from "./support/moddable/trace";
import {waitUntil} from "./support/wait";
import {writeEfuse} from "../host/adapters/efuse";
import {FlashBootControl} from "../idf/boot-control";
import {boot, provision} from "../idf/bootloader";
import {FlashUpdatePartition} from "../idf/update-partition";
import type {BootControl, UpdatePartition} from "../ota/ports";
import {bootControlContract} from "./support/contracts/boot-control";
import {updatePartitionContract} from "./support/contracts/update-partition";
import {fixtureBytes} from "./support/image-fixtures";
import {tempDevice, type TempDevice} from "./support/host-device";
import {chip, resetChip} from "./support/moddable/esp32-chip";
import {HostMqttSession} from "../host/adapters/mqtt-session";
import type {MqttSession} from "../rainmaker/ports";
import {mqttSessionContract} from "./support/contracts/mqtt-session";
import {HostHttpClient} from "../host/adapters/http-client";
import {HostTimers} from "../host/adapters/timers";
import type {HttpClient} from "../ota/ports";
import type {Timers} from "../rainmaker/ports";
import {httpClientContract} from "./support/contracts/http-client";
import {loadDevice} from "./support/moddable-loader";
import {requestsMade} from "./support/moddable/http";

httpClientContract("host (node:http)", async () => ({client: new HostHttpClient({maxChunk: 4096}), maxChunk: 4096}));
httpClientContract("device (Moddable Request stand-in)", async () => {
	const {DeviceHttpClient, READ_PIECE_BYTES} = await loadDevice<{
		DeviceHttpClient: new (timers: Timers) => HttpClient;
		READ_PIECE_BYTES: number;
	}>("http-client");
	return {
		client: new DeviceHttpClient(new HostTimers()),
		maxChunk: READ_PIECE_BYTES,
		settled: async () => {
			await requestsMade.at(-1)?.settled;
		},
	};
});

const temporaryDirs: string[] = [];
after(() => {
	for (const dir of temporaryDirs) rmSync(dir, {recursive: true, force: true});
});
function temporaryDir(): string {
	const dir = mkdtempSync(join(tmpdir(), "rmx-contract-"));
	temporaryDirs.push(dir);
	return dir;
}

keyValueStoreContract("host MemoryStore", async () => ({open: () => new MemoryStore()}));
keyValueStoreContract("host JsonFileStore", async () => {
	const path = join(temporaryDir(), "nvs.json");
	return {open: () => new JsonFileStore(path), reopen: () => new JsonFileStore(path)};
});
keyValueStoreContract("device esp32 PreferenceStore (Preference stand-in)", async () => {
	const {PreferenceStore} = await loadDevice<{PreferenceStore: new (domain: string) => KeyValueStore}>(
		"esp32/key-value-store",
	);
	preferenceStorage.clear();
	return {open: () => new PreferenceStore("rmaker_ota"), reopen: () => new PreferenceStore("rmaker_ota")};
});
keyValueStoreContract("device lin FileStore", async () => {
	type NodeFiles = {read(name: string): string | undefined; write(name: string, text: string): void};
	const {FileStore} = await loadDevice<{FileStore: new (files: NodeFiles) => KeyValueStore}>("lin/file-store");
	const files = new Map<string, string>();
	const nodeFiles: NodeFiles = {read: name => files.get(name), write: (name, text) => files.set(name, text)};
	return {open: () => new FileStore(nodeFiles), reopen: () => new FileStore(nodeFiles)};
});

const realTime = (timers: Timers) => ({
	timers,
	runUntil: (condition: () => boolean, what: string) => waitUntil(condition, what),
	expectedEpoch: () => Date.now() / 1000,
});
timersContract("host HostTimers", async () => realTime(new HostTimers()));
timersContract("host VirtualTimers", async () => {
	const timers = new VirtualTimers();
	return {
		timers,
		runUntil: async (condition: () => boolean, what: string) => {
			for (let spent = 0; !condition(); spent++) {
				if (spent > 60_000) throw new Error(`not within a virtual minute: ${what}`);
				timers.advance(1);
			}
		},
		expectedEpoch: () => 1767225600 + timers.now() / 1000,
	};
});
timersContract("device DeviceTimers (timer stand-in)", async () =>
	realTime(new (await loadDevice<{DeviceTimers: new () => Timers}>("timers")).DeviceTimers()),
);

digestContract("host (node:crypto)", async () => createDigest);
digestContract(
	"device (crypt stand-in)",
	async () => (await loadDevice<{createCryptDigest: DigestFactory}>("digest")).createCryptDigest,
);

logContract("host HostLog", async () => {
	const lines: string[] = [];
	const sink = {write: (text: string) => lines.push(text)};
	return {log: new HostLog("node-1", {out: sink, err: sink}), written: () => lines};
});
logContract("device TraceLog (trace)", async () => ({
	log: new (await loadDevice<{TraceLog: new () => Log}>("log")).TraceLog(),
	written: () => traceLines,
}));

const V1 = new Uint8Array(fixtureBytes("synthetic/app-1.0.0.bin"));
const V1_1 = new Uint8Array(fixtureBytes("synthetic/app-1.1.0.bin"));
const SLOT_BYTES = 0x1e0000; // ota_1 of partitions.csv

/** A host chip (idf/ on a flash file) running 1.0.0, confirmed; with `update`, on its first boot of 1.1.0. */
function hostChip(temp: TempDevice, update: boolean, secureVersion = 0) {
	writeEfuse(temp.flashFile, {secureVersion});
	const device = temp.open();
	provision(device, V1);
	let booted = boot(device, createDigest);
	if (update) {
		const partition = new FlashUpdatePartition(device, booted.slot, createDigest);
		partition.begin(0);
		partition.write(V1_1);
		partition.end();
		booted = boot(device, createDigest);
	}
	return {device, booted};
}

updatePartitionContract("host FlashUpdatePartition (idf/ on a flash file)", async () => {
	const temp = tempDevice();
	return {
		open: () => {
			const {device, booted} = hostChip(temp, false);
			return {
				partition: new FlashUpdatePartition(device, booted.slot, createDigest),
				switched: () => device.otadata.bootSlot(device.slots.length) !== booted.slot,
			};
		},
		dispose: () => temp.dispose(),
	};
});
updatePartitionContract("device esp32 OtaUpdatePartition (esp_ota_* FFI stand-in)", async () => {
	const {OtaUpdatePartition} = await loadDevice<{OtaUpdatePartition: new () => UpdatePartition}>(
		"esp32/update-partition",
	);
	return {
		open: () => {
			resetChip({running: V1, slotBytes: SLOT_BYTES});
			return {partition: new OtaUpdatePartition(), switched: () => chip.bootPartition === "next"};
		},
	};
});

bootControlContract("host FlashBootControl (idf/ on a flash file)", async () => {
	let temp: TempDevice | undefined;
	return {
		open: (state, secureVersion) => {
			temp = tempDevice();
			const {device, booted} = hostChip(temp, state === "pending-verify", secureVersion);
			const restarts: string[] = [];
			return {
				boot: new FlashBootControl(device, booted, {restart: reason => restarts.push(reason)}, createDigest),
				running: state === "pending-verify" ? V1_1 : V1,
				restarts: () => restarts,
			};
		},
		dispose: () => temp?.dispose(),
	};
});
bootControlContract("device esp32 FfiBootControl (FFI and flash stand-ins)", async () => {
	const {FfiBootControl} = await loadDevice<{FfiBootControl: new () => BootControl}>("esp32/boot-control");
	return {
		open: (state, secureVersion) => {
			const pending = state === "pending-verify";
			const running = pending ? V1_1 : V1;
			resetChip({
				running,
				slotBytes: SLOT_BYTES,
				runningState: pending ? 1 : 2,
				otherImageValid: pending,
				updateSlotState: pending ? 2 : -1,
				secureVersion,
			});
			return {boot: new FfiBootControl(), running, restarts: () => chip.events};
		},
	};
});

const quietLog: Log = {info() {}, warn() {}, error() {}};
mqttSessionContract(
	"host HostMqttSession (mqtt.js)",
	async () => (broker, clientId, timers) =>
		new HostMqttSession({
			url: broker.url,
			clientId,
			timers,
			reconnectMinMs: 20,
			reconnectMaxMs: 200,
			connectTimeoutMs: 60_000,
			log: quietLog,
		}),
);
mqttSessionContract("device DeviceMqttSession (Moddable socket stand-in)", async () => {
	const {DeviceMqttSession} = await loadDevice<{
		DeviceMqttSession: new (config: object, timers: Timers, log: Log) => MqttSession;
	}>("mqtt-session");
	return (broker, clientId, timers) =>
		new DeviceMqttSession(
			{
				host: broker.host,
				port: broker.port,
				clientId,
				keepAliveSeconds: 60,
				minBackoffMs: 20,
				maxBackoffMs: 200,
				connectTimeoutMs: 60_000,
				maxPacketBytes: 4096,
			},
			timers,
			quietLog,
		);
});
