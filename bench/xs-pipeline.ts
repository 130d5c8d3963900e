/*
 * Benchmarks 1 and 2 of issue 7, in the real XS engine (the device-heap xsnap worker):
 *  1. peak XS heap above idle while an image streams through the update pipeline (the
 *     user-approval flow's download → header check → partition writes), for two image sizes;
 *  2. XS compute (the meter) per MB through the pipeline, without the bridge stand-ins (which
 *     are native calls on the device: digest, flash writes, HTTP), beside SHA-256 in JS per MB.
 * Images are synthetic (a real header, then filler) and never held in memory on either side; the
 * partition stand-in counts and digests the bytes XS hands over but does not verify them as an
 * image (filler is not a valid image). The job carries the file's MD5 (file_md5), so the MD5
 * digest of the download runs as on a job of the real cloud. The HTTP side delivers the body in
 * TCP-segment-sized events (1460 bytes) or TLS-record-sized ones (16 KB); the guest hands each on
 * in pieces of at most 1460 bytes, as device/http-client.ts reads a fragment.
 */
import {createHash} from "node:crypto";
import {fixtureImage} from "../tests/support/image-fixtures";
import {syntheticImage, type ServedImage} from "../tests/xs/harness/image-server";
import {approve, offerFor, offerJob, startXsOtaRig} from "../tests/xs/harness/ota-rig";
import type {MeterTotal} from "../tests/xs/harness/xs-guest";

const HEADER_FROM = fixtureImage("synthetic/app-2.0.0-large.bin");
const MB = 1024 * 1024;
const CHUNK = 1460;

/** Heap bytes of chunks and slots, as measured here (64-bit: 32-byte slots) and for the ESP32 (16-byte slots). */
export interface HeapBytes {
	readonly here: number;
	readonly device: number;
}

const DEVICE_SLOT_SIZE = 16;

function heapBytes(chunks: number, slots: number, slotSize: number): HeapBytes {
	return {here: chunks + slots * slotSize, device: chunks + slots * DEVICE_SLOT_SIZE};
}

export interface StreamMeasure {
	readonly size: number;
	/** Live XS heap (chunks + slots) at idle (the job offered, not yet approved), after a collection. */
	readonly idle: HeapBytes;
	/**
	 * Highest live XS heap above idle during the install (approval, download, verification): the
	 * heap after a collection, sampled after every event, so after every chunk (`sampleLive` runs only).
	 */
	readonly peakLive: HeapBytes | undefined;
	/** Live XS heap above idle after the first chunk: the install's own state (job, sink, pending reports) and one chunk. */
	readonly firstChunkLive: HeapBytes | undefined;
	/** The event after which the live peak was seen. */
	readonly peakEvent: string | undefined;
	/** Bytes XS had to take from the system during the install (it grows only when a collection is not enough). */
	readonly growth: number;
	/** Heap still in use after the install and a collection, above idle. */
	readonly retained: HeapBytes;
	readonly chunks: number;
	/** XS compute per MB in the pipeline's own code (bridge and per-event harness cost taken out). */
	readonly pipelinePerMB: number;
	/** XS compute per MB spent in the bridge stand-ins (native calls on the device). */
	readonly bridgePerMB: number;
	readonly seconds: number;
}

const zero: MeterTotal = {count: 0, compute: 0, bridge: 0};

/** The MD5 (hex) of a served image, streamed. */
async function md5Of(image: ServedImage): Promise<string> {
	const hash = createHash("md5");
	for await (const chunk of image.open()) hash.update(chunk as Buffer);
	return hash.digest("hex");
}

/** TLS record size: the largest fragment an HTTPS download delivers at once. */
export const TLS_RECORD = 16 * 1024;

/**
 * Streams a `size`-byte image through the approval flow's install, the HTTP body arriving in
 * `fragment`-byte events; with `sampleLive`, samples the live heap between events; with `product`
 * "switch", the firmware carries the example product (its device, params and OTA event listener).
 */
export async function measureStream(
	size: number,
	sampleLive = false,
	fragment = CHUNK,
	product?: "switch",
	transport: "https" | "mqtt-stream" = "https",
): Promise<StreamMeasure> {
	const image = syntheticImage(HEADER_FROM, size);
	const streamed = transport === "mqtt-stream";
	const rig = await startXsOtaRig({
		nodeId: `xs-bench-${size}`,
		...(product ? {product} : {}),
		images: {"bench.bin": image},
		streams: {"bench-stream": image},
		partitionCapacity: 8 * MB,
		verifyImage: false,
		httpChunk: fragment,
		// MQTT stream (benchmark 10): 4096-byte blocks, 16 per request, the reference's defaults
		...(streamed ? {ota: {transport}} : {}),
	});
	// the events that carry the image: HTTP chunks, or one MQTT message per stream block
	const dataEvent = streamed ? "mqtt.binary" : "http.data";
	const eventBytes = streamed ? 4096 : fragment;
	try {
		const {guest} = rig;
		const job = {
			...offerFor(rig, `bench-${size}`, "bench.bin", image, "2.0.0-large", await md5Of(image)),
			...(streamed ? {stream_id: "bench-stream"} : {}),
		};
		await offerJob(rig, job);
		// Calibration: an event that does nothing, with a chunk-sized frame, costs this much besides the bridge.
		for (let i = 0; i < 32; i++) await guest.request("bench.noop", {id: 1}, new Uint8Array(CHUNK));
		const noop = guest.meters.get("bench.noop")!;
		const perEvent = (noop.compute - noop.bridge) / noop.count;
		const idle = await guest.memory({collect: true, reset: true});
		const before = {...(guest.meters.get(dataEvent) ?? zero)};
		const started = performance.now();
		let peakLive: HeapBytes | undefined;
		let firstChunkLive: HeapBytes | undefined;
		let peakEvent: string | undefined;
		if (sampleLive) await guest.request("memory.sample", {on: true});
		await approve(rig);
		await rig.until(() => guest.partition.calls.includes("end"), `the end of the ${size}-byte stream`, 120000);
		await guest.settle();
		const seconds = (performance.now() - started) / 1000;
		if (sampleLive) {
			type Sample = {chunks: number; slots: number; event: string};
			const sampled = (await guest.request("memory.sample", {on: false})) as {
				peak: Sample;
				firstData: Sample;
				samples: number;
			};
			if (sampled.samples < size / eventBytes)
				throw new Error(`only ${sampled.samples} live-heap samples for ${size} bytes`);
			peakLive = heapBytes(sampled.peak.chunks - idle.chunks, sampled.peak.slots - idle.slots, idle.slotSize);
			firstChunkLive = heapBytes(
				sampled.firstData.chunks - idle.chunks,
				sampled.firstData.slots - idle.slots,
				idle.slotSize,
			);
			peakEvent = sampled.peak.event;
		}
		const grown = await guest.memory();
		const after = await guest.memory({collect: true});
		const data = guest.meters.get(dataEvent)!;
		const events = data.count - before.count;
		const compute = data.compute - before.compute;
		const bridge = data.bridge - before.bridge;
		const mb = size / MB;
		return {
			size,
			idle: heapBytes(idle.chunks, idle.slots, idle.slotSize),
			peakLive,
			firstChunkLive,
			peakEvent,
			growth: grown.allocated - idle.allocated,
			retained: heapBytes(after.chunks - idle.chunks, after.slots - idle.slots, idle.slotSize),
			chunks: events,
			pipelinePerMB: (compute - bridge - perEvent * events) / mb,
			bridgePerMB: bridge / mb,
			seconds,
		};
	} finally {
		await rig.close();
	}
}

export interface YardstickMeasure {
	readonly bytes: number;
	readonly perMB: number;
	/** The JS SHA-256 agreed with node:crypto on the same bytes. */
	readonly correct: boolean;
}

/** SHA-256 in JS inside XS over `bytes` bytes in 1460-byte chunks. */
export async function measureJsSha256(bytes: number): Promise<YardstickMeasure> {
	const {XsGuest} = await import("../tests/xs/harness/xs-guest");
	const guest = await XsGuest.start({nodeId: "xs-bench-sha"});
	try {
		const result = (await guest.request("bench.sha256", {bytes, chunk: CHUNK})) as {hex: string; compute: number};
		const expected = createHash("sha256").update(Buffer.alloc(bytes, 0x5a)).digest("hex");
		return {bytes, perMB: result.compute / (bytes / MB), correct: result.hex === expected};
	} finally {
		await guest.close();
	}
}
