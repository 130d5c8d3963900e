/*
 * Entry module of the XS guest: the real node core (rainmaker/, ota/, compiled by tsc) wired to
 * the bridged ports, driven by events from the Node harness. Its last act is the readiness
 * report: xsnap says nothing when an import fails, so the harness treats a missing report as a
 * failed load.
 */
import {NodeAgent} from "../../../rainmaker/agent";
import {Device, Node, type JsonValue} from "../../../rainmaker/model";
import {DEVICE_SWITCH, PARAM_POWER, UI_SLIDER, UI_TOGGLE} from "../../../rainmaker/standard";
import {type Firmware, type FirmwareConfig, startFirmware} from "../../../ota/firmware";
import {checkUpgrade, ImageError, parseImageHeader, HEADER_PROBE_LENGTH} from "../../../ota/image";
import {switchProduct} from "../../../product/switch";
import {on, ready, setAfterEvent} from "./bridge";
import {BridgedBoot, BridgedPartition, corruptNextAttempt} from "./flash";
import {BridgedHttp} from "./http";
import {BridgedLog, BridgedStore, createBridgedDigest} from "./services";
import {BridgedSession} from "./session";
import {BridgedTimers} from "./timers";
import {Sha256} from "./sha256";
import {meterNow, xsnap} from "./xsnap";

const timers = new BridgedTimers();
const session = new BridgedSession();
const http = new BridgedHttp();
const log = new BridgedLog();

let firmware: Firmware | undefined;
let agent: NodeAgent | undefined;
const writes: {name: string; value: JsonValue}[][] = [];

/** A node with one switch device, for the model and agent checks. */
function startSwitchNode(nodeId: string): void {
	const node = new Node(nodeId, {
		name: "XS switch",
		fw_version: "1.0.0",
		type: "esp.node.switch",
		project_name: "rainmaker-ota-xs",
		platform: "esp32",
	});
	const light = node.addDevice(new Device("Switch", DEVICE_SWITCH, {primary: "Power"}));
	light.addParam({
		name: "Power",
		type: PARAM_POWER,
		dataType: "bool",
		properties: ["read", "write"],
		value: false,
		uiType: UI_TOGGLE,
	});
	light.addParam({
		name: "Level",
		dataType: "int",
		properties: ["read", "write"],
		value: 10,
		bounds: {min: 0, max: 100, step: 1},
		uiType: UI_SLIDER,
	});
	light.onWrite = accepted => {
		writes.push(accepted.map(write => ({name: write.param.name, value: write.value})));
		return true;
	};
	agent = new NodeAgent({node, session, log});
	agent.start();
}

on("agent.start", head => startSwitchNode(String(head.nodeId)));
on("agent.state", () => ({started: agent?.started ?? false, writes}));

on("firmware.start", head => {
	firmware = startFirmware(
		{
			session,
			timers,
			log,
			http,
			store: new BridgedStore(),
			partition: new BridgedPartition(),
			boot: new BridgedBoot(),
			createDigest: createBridgedDigest,
		},
		// head.product "switch": the example product (docs/product.md), for benchmark 1's measure of what it adds
		head.product === "switch"
			? {...(head.config as FirmwareConfig), product: switchProduct({log})}
			: (head.config as FirmwareConfig),
	);
	return null;
});

on("firmware.state", () => {
	const engine = firmware?.engine;
	return {
		started: firmware?.agent.started ?? false,
		offer: firmware?.ota.offer?.jobId ?? null,
		approved: firmware?.ota.approvedJobId ?? null,
		busy: firmware?.ota.busy ?? false,
		progress: engine?.progress ?? null,
		pendingTimers: timers.pending,
		openRequests: http.open,
	};
});

on("firmware.command", head => {
	const lines: string[] = [];
	const handled = firmware?.command(String(head.name), head.args as string[], line => lines.push(line)) ?? false;
	return {handled, lines};
});

on("firmware.stop", () => {
	firmware?.stop();
	firmware = undefined;
});

/** bytes: the candidate's first HEADER_PROBE_LENGTH bytes, then the running image's. */
on("image.check", (head, bytes) => {
	try {
		const candidate = parseImageHeader(bytes.subarray(0, HEADER_PROBE_LENGTH));
		const running = parseImageHeader(bytes.subarray(HEADER_PROBE_LENGTH));
		return {
			candidate,
			verdict:
				checkUpgrade(candidate, running, Number(head.minSecureVersion ?? 0), {
					chipRevision: Number(head.chipRevision ?? 0),
					approvedVersion: head.approvedVersion === undefined ? undefined : String(head.approvedVersion),
				}) ?? null,
		};
	} catch (error) {
		if (error instanceof ImageError) return {error: {code: error.code, message: error.message}};
		throw error;
	}
});

on("memory", head => {
	if (head.collect === true) xsnap.gc();
	return xsnap.memoryStats(head.reset === true);
});

/** Allows the heap to grow by at most `bytes` beyond what XS holds now (after a collection). */
on("memory.limit", head => {
	xsnap.gc();
	const limit = xsnap.memoryStats().allocated + Number(head.bytes);
	xsnap.setAllocationLimit(limit);
	return limit;
});

/**
 * Live-heap sampling for the benchmarks: after every event, a collection and XS's counters; the
 * highest live heap since the sampling started, and the live heap after the first HTTP chunk
 * (the install's own state plus one chunk). {on: false} stops it and answers both.
 */
interface LiveHeap {
	chunks: number;
	slots: number;
	live: number;
	event: string;
}
let peak: LiveHeap | undefined;
let firstData: LiveHeap | undefined;
let samples = 0;
on("memory.sample", head => {
	if (head.on !== true) {
		setAfterEvent(undefined);
		return {peak: peak ?? null, firstData: firstData ?? null, samples};
	}
	peak = firstData = undefined;
	samples = 0;
	setAfterEvent(event => {
		xsnap.gc();
		const stats = xsnap.memoryStats();
		const sample = {
			chunks: stats.chunks,
			slots: stats.slots,
			live: stats.chunks + stats.slots * stats.slotSize,
			event,
		};
		samples++;
		if (!peak || sample.live > peak.live) peak = sample;
		if (!firstData && (event === "http.data" || event === "mqtt.binary")) firstData = sample;
	});
	return null;
});

/** Test hook: flip the first byte of the n-th partition write of the next attempt, inside XS. */
on("partition.corrupt", head => {
	corruptNextAttempt(Number(head.write));
	return null;
});

/** An event that does nothing: the benchmarks' calibration of the per-event harness cost. */
on("bench.noop", () => null);

/** The yardstick: SHA-256 in JS over `bytes` bytes of 0x5a in `chunk`-byte chunks, with its XS compute. */
on("bench.sha256", head => {
	const chunk = new Uint8Array(Number(head.chunk)).fill(0x5a);
	let left = Number(head.bytes);
	const start = meterNow();
	const hash = new Sha256();
	while (left > 0) {
		const take = Math.min(left, chunk.length);
		hash.write(take === chunk.length ? chunk : chunk.subarray(0, take));
		left -= take;
	}
	const digest = hash.close();
	const compute = meterNow() - start;
	let hex = "";
	for (const byte of digest) hex += (byte < 16 ? "0" : "") + byte.toString(16);
	return {hex, compute};
});

ready("rainmaker-ota-xs guest");
