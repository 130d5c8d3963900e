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
