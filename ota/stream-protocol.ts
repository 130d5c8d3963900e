/*
 * The messages and topics of AWS IoT's MQTT-based file delivery as esp-rainmaker's MQTT OTA uses
 * them (docs/protocol.md §5.10): the node publishes GetStream requests on
 * `$aws/things/<node>/streams/<stream>/get/cbor` and receives one data message per block on
 * `.../data/cbor`, errors on `.../rejected/cbor`. Written once for the node (ota/stream-download.ts)
 * and the local cloud (host/cloud/streams.ts).
 */
import {type CborMap, decodeCborMap, encodeCborMap} from "./cbor";

/** The reference's file id (esp_rmaker_mqtt_ota.c: file_id = 1). */
export const STREAM_FILE_ID = 1;
/** AWS: at most 128 KiB of blocks per GetStream request (MQTT_OTA_MAX_BYTES_PER_REQUEST). */
export const MAX_STREAM_REQUEST_BYTES = 128 * 1024;
/** AWS: block size ("l") 256..131072 bytes. */
export const MIN_STREAM_BLOCK = 256;
export const MAX_STREAM_BLOCK = 131072;
/** AWS: block offset and block count 0..98304; file id 0..255; client token ≤ 64 bytes; bitmap < 12288 bytes. */
export const MAX_STREAM_BLOCK_INDEX = 98304;
export const MAX_STREAM_FILE_ID = 255;
export const MAX_STREAM_BITMAP = 12288;

export type StreamTopicKind = "get" | "data" | "rejected";

/** One message a cloud sends in answer to a GetStream request. */
export type StreamAnswer = {readonly kind: "data" | "rejected"; readonly payload: Uint8Array};

/** `$aws/things/<node>/streams/<stream>/<kind>/cbor`. */
export function streamTopic(nodeId: string, streamId: string, kind: StreamTopicKind): string {
	return `$aws/things/${nodeId}/streams/${streamId}/${kind}/cbor`;
}

/** A stream id the topics can carry: no MQTT wildcard or level separator, at most 128 characters. */
export function streamIdProblem(streamId: string): string | undefined {
	if (streamId.length === 0 || streamId.length > 128) return "stream_id must be 1..128 characters";
	if (/[/#+]/.test(streamId) || streamId.includes(String.fromCharCode(0)))
		return "stream_id must not contain '/', '#', '+' or NUL";
	return undefined;
}

export interface GetStreamRequest {
	/** File id ("f"). */
	readonly fileId: number;
	/** Block size in bytes ("l"). */
	readonly blockSize: number;
	/** First block ("o"). */
	readonly offset: number;
	/** Number of blocks ("n"). */
	readonly count: number;
	/** Blocks wanted, bit i (LSB first in byte i >> 3) = block offset + i ("b"); all `count` blocks when absent. */
	readonly bitmap?: Uint8Array;
	/** Client token ("c"): the reference sends none. */
	readonly clientToken?: string;
}

/** The request as the reference encodes it: f, l, o, (b), n. */
export function encodeGetStream(request: GetStreamRequest): Uint8Array {
	const entries: Array<[string, number | Uint8Array | string]> = [];
	if (request.clientToken !== undefined) entries.push(["c", request.clientToken]);
	entries.push(["f", request.fileId], ["l", request.blockSize], ["o", request.offset]);
	if (request.bitmap) entries.push(["b", request.bitmap]);
	entries.push(["n", request.count]);
	return encodeCborMap(entries);
}

export interface StreamBlock {
	readonly fileId: number;
	readonly index: number;
	/** The length the message states ("l"). */
	readonly length: number;
	/** The block's bytes: a view into the message, valid only while it is handled. */
	readonly payload: Uint8Array;
}

function integer(map: CborMap, key: string): number | undefined {
	const value = map[key];
	return typeof value === "number" ? value : undefined;
}

/** A data message, or a text saying why it is not one. */
export function decodeStreamBlock(message: Uint8Array): StreamBlock | string {
	const map = decodeCborMap(message);
	if (typeof map === "string") return map;
	const fileId = integer(map, "f"),
		index = integer(map, "i"),
		length = integer(map, "l");
	const payload = map.p;
	if (fileId === undefined || index === undefined || length === undefined || !(payload instanceof Uint8Array))
		return "data message without integer f, i, l and byte string p";
	return {fileId, index, length, payload};
}

/** One data message (the cloud's side). */
export function encodeStreamBlock(
	fileId: number,
	index: number,
	payload: Uint8Array,
	clientToken?: string,
): Uint8Array {
	const entries: Array<[string, number | Uint8Array | string]> = [];
	if (clientToken !== undefined) entries.push(["c", clientToken]);
	entries.push(["f", fileId], ["l", payload.length], ["i", index], ["p", payload]);
	return encodeCborMap(entries);
}

export interface StreamRejection {
	/** AWS's error code ("o"), e.g. "ResourceNotFound"; "" when the message has none. */
	readonly code: string;
	/** Its message ("m"). */
	readonly message: string;
}

/** The rejected message; AWS may also spell the keys "code" and "message". Never fails: an undecodable one says so. */
export function decodeStreamRejection(message: Uint8Array): StreamRejection {
	const map = decodeCborMap(message);
	if (typeof map === "string") return {code: "", message: `undecodable rejection (${map})`};
	const code = map.o ?? map.code;
	const text = map.m ?? map.message;
	return {code: typeof code === "string" ? code : "", message: typeof text === "string" ? text : ""};
}

/** The rejected message (the cloud's side). */
export function encodeStreamRejection(code: string, message: string, clientToken?: string): Uint8Array {
	const entries: Array<[string, string]> = [
		["o", code],
		["m", message],
	];
	if (clientToken !== undefined) entries.push(["c", clientToken]);
	return encodeCborMap(entries);
}

/** A GetStream request as the cloud reads it, or [AWS error code, message] when it is bad. */
export function decodeGetStream(message: Uint8Array): GetStreamRequest | readonly [string, string] {
	const map = decodeCborMap(message);
	if (typeof map === "string") return ["InvalidCbor", map];
	const token = map.c;
	if (token !== undefined && (typeof token !== "string" || token.length > 64))
		return ["InvalidRequest", "client token must be a text of at most 64 bytes"];
	const fileId = integer(map, "f"),
		blockSize = integer(map, "l");
	if (fileId === undefined || fileId < 0 || fileId > MAX_STREAM_FILE_ID)
		return ["InvalidRequest", `f must be a file id 0..${MAX_STREAM_FILE_ID}`];
	if (blockSize === undefined || blockSize < MIN_STREAM_BLOCK || blockSize > MAX_STREAM_BLOCK)
		return ["BlockSizeOutOfBounds", `l must be ${MIN_STREAM_BLOCK}..${MAX_STREAM_BLOCK} bytes`];
	const offset = map.o === undefined ? 0 : integer(map, "o");
	if (offset === undefined || offset < 0 || offset > MAX_STREAM_BLOCK_INDEX)
		return ["OffsetOutOfBounds", `o must be a block offset 0..${MAX_STREAM_BLOCK_INDEX}`];
	const count = map.n === undefined ? Math.floor(MAX_STREAM_REQUEST_BYTES / blockSize) : integer(map, "n");
	if (count === undefined || count < 0 || count > MAX_STREAM_BLOCK_INDEX)
		return ["BlockCountLimitExceeded", `n must be 0..${MAX_STREAM_BLOCK_INDEX}`];
	const bitmap = map.b;
	if (bitmap !== undefined && !(bitmap instanceof Uint8Array)) return ["InvalidRequest", "b must be a byte string"];
	if (bitmap && bitmap.length >= MAX_STREAM_BITMAP)
		return ["BlockBitmapLimitExceeded", `b must be shorter than ${MAX_STREAM_BITMAP} bytes`];
	const request: {-readonly [K in keyof GetStreamRequest]: GetStreamRequest[K]} = {fileId, blockSize, offset, count};
	if (bitmap) request.bitmap = bitmap;
	if (typeof token === "string") request.clientToken = token;
	return request;
}

/** The bitmap of `count` blocks all wanted (bits past `count` in the last byte stay 0). */
export function fullBitmap(count: number, into?: Uint8Array): Uint8Array {
	const length = (count + 7) >> 3;
	const bitmap = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
	bitmap.fill(0xff);
	if (count % 8 !== 0) bitmap[length - 1] = (1 << (count % 8)) - 1;
	return bitmap;
}
