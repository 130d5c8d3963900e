/*
 * The local cloud's MQTT file delivery (docs/local-cloud.md "Stream jobs", docs/protocol.md §5.10),
 * as AWS IoT's GetStream answers: each block a request asks for (its bitmap, else `n` blocks from
 * `o`) is one message on `.../data/cbor`, at most 128 KiB per request; a bad request gets one
 * message on `.../rejected/cbor` with AWS's error code: InvalidCbor, InvalidRequest,
 * BlockSizeOutOfBounds, OffsetOutOfBounds, BlockCountLimitExceeded, BlockBitmapLimitExceeded,
 * ResourceNotFound. The stream holds one file, id 1, as esp-rainmaker's streams do.
 */
import {closeSync, openSync, readSync} from "node:fs";
import type {EventEmitter} from "node:events";
import type {CloudEventMap} from "./cloud-api";
import type {ImageStore} from "./images";
import type {JobStore} from "./jobs";
import {
	decodeGetStream,
	encodeStreamBlock,
	encodeStreamRejection,
	MAX_STREAM_REQUEST_BYTES,
	STREAM_FILE_ID,
	type StreamAnswer,
	streamTopic,
} from "../../ota/stream-protocol";

/** `$aws/things/<node>/streams/<stream>/<kind>/cbor` → its parts, or undefined for any other topic. */
export function parseStreamTopic(
	topic: string,
): {readonly nodeId: string; readonly streamId: string; readonly kind: string} | undefined {
	const match =
		/^\$aws\/things\/([^/]+)\/streams\/([^/]+)\/(get|data|rejected|describe|description)\/(cbor|json)$/.exec(topic);
	if (!match) return undefined;
	return {nodeId: match[1], streamId: match[2], kind: `${match[3]}/${match[4]}`};
}

export type {StreamAnswer} from "../../ota/stream-protocol";

/** The file a stream serves: its size and a read of one block (an uploaded image's bytes, or a file on disk). */
export interface StreamFile {
	readonly size: number;
	read(start: number, end: number): Uint8Array;
}

/** A stream file over bytes in memory, or over a file on disk (read a block at a time). */
export function streamFile(source: Uint8Array | {readonly path: string; readonly size: number}): StreamFile {
	if (source instanceof Uint8Array) return {size: source.length, read: (start, end) => source.subarray(start, end)};
	return {
		size: source.size,
		read(start, end) {
			const bytes = new Uint8Array(end - start);
			const fd = openSync(source.path, "r");
			try {
				readSync(fd, bytes, 0, bytes.length, start);
			} finally {
				closeSync(fd);
			}
			return bytes;
		},
	};
}

/**
 * The answers to one GetStream request for `image` (undefined: no such stream). Yields the data
 * messages one at a time, so a caller sends each before the next block is copied.
 */
export function* answerGetStream(
	source: Uint8Array | StreamFile | undefined,
	request: Uint8Array,
): Generator<StreamAnswer> {
	const image = source instanceof Uint8Array ? streamFile(source) : source;
	const decoded = decodeGetStream(request);
	if (Array.isArray(decoded)) {
		const [code, message] = decoded as readonly [string, string];
		yield {kind: "rejected", payload: encodeStreamRejection(code, message)};
		return;
	}
	const {fileId, blockSize, offset, count, bitmap, clientToken} = decoded as Exclude<
		typeof decoded,
		readonly [string, string]
	>;
	if (!image) {
		yield {kind: "rejected", payload: encodeStreamRejection("ResourceNotFound", "no such stream", clientToken)};
		return;
	}
	if (fileId !== STREAM_FILE_ID) {
		yield {
			kind: "rejected",
			payload: encodeStreamRejection("ResourceNotFound", `the stream has no file ${fileId}`, clientToken),
		};
		return;
	}
	const blocks = Math.ceil(image.size / blockSize);
	if (offset >= blocks) {
		yield {
			kind: "rejected",
			payload: encodeStreamRejection(
				"OffsetOutOfBounds",
				`block ${offset} is past the file's ${blocks} blocks`,
				clientToken,
			),
		};
		return;
	}
	let budget = MAX_STREAM_REQUEST_BYTES;
	let sent = 0;
	const span = bitmap ? bitmap.length * 8 : count;
	for (let bit = 0; bit < span && offset + bit < blocks; bit++) {
		if (bitmap && (bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
		if (count > 0 && sent >= count) break;
		const index = offset + bit;
		const start = index * blockSize;
		const payload = image.read(start, Math.min(start + blockSize, image.size));
		if (payload.length > budget) break;
		budget -= payload.length;
		sent++;
		yield {kind: "data", payload: encodeStreamBlock(STREAM_FILE_ID, index, payload, clientToken)};
	}
}

/** What answering a stream request needs of the cloud. */
export interface StreamServices {
	readonly jobStore: JobStore;
	readonly images: ImageStore;
	readonly events: EventEmitter<CloudEventMap>;
	/** Tests' fault injection: `faults.stream`. */
	readonly faults: {readonly stream: ((answers: StreamAnswer[], nodeId: string) => StreamAnswer[]) | undefined};
}

/**
 * Answers a node's GetStream request from the image of the stream job it names (the stream id is
 * the job id, docs/protocol.md §5.10); a job that does not target the node, a cancelled one or an
 * unknown one is ResourceNotFound. Each answer is published before the next block is read.
 */
export async function answerStreamRequest(
	cloud: StreamServices,
	log: (line: string) => void,
	nodeId: string,
	streamId: string,
	request: Uint8Array,
	publish: (topic: string, payload: Uint8Array) => Promise<void>,
): Promise<void> {
	const job = cloud.jobStore.get(streamId);
	const image =
		job?.stream && !job.cancelled && job.nodes.includes(nodeId) ? cloud.images.get(job.imageId) : undefined;
	const file = image
		? streamFile(image.data.kind === "bytes" ? image.data.bytes : {path: image.data.path, size: image.fileSize})
		: undefined;
	let answers: Iterable<StreamAnswer> = answerGetStream(file, request);
	const fault = cloud.faults.stream;
	if (fault)
		answers = fault(
			Array.from(answers, answer => ({...answer, payload: answer.payload.slice()})),
			nodeId,
		);
	let blocks = 0;
	try {
		for (const answer of answers) {
			if (answer.kind === "data") blocks++;
			else log(`${nodeId} ← stream ${streamId} rejected`);
			await publish(streamTopic(nodeId, streamId, answer.kind), answer.payload);
		}
	} catch (error) {
		cloud.events.emit("warning", `stream ${streamId} to ${nodeId}: ${(error as Error).message}`);
	}
	cloud.events.emit("stream", {nodeId, streamId, blocks});
}
