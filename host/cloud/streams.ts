/*
 * The local cloud's MQTT file delivery (docs/local-cloud.md "Stream jobs", docs/protocol.md §5.10),
 * as AWS IoT's GetStream answers: each block a request asks for (its bitmap, else `n` blocks from
 * `o`) is one message on `.../data/cbor`, at most 128 KiB per request; a bad request gets one
 * message on `.../rejected/cbor` with AWS's error code: InvalidCbor, InvalidRequest,
 * BlockSizeOutOfBounds, OffsetOutOfBounds, BlockCountLimitExceeded, BlockBitmapLimitExceeded,
 * ResourceNotFound. The stream holds one file, id 1, as esp-rainmaker's streams do.
 */
import {
	decodeGetStream,
	encodeStreamBlock,
	encodeStreamRejection,
	MAX_STREAM_REQUEST_BYTES,
	STREAM_FILE_ID,
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

export type StreamAnswer = {readonly kind: "data" | "rejected"; readonly payload: Uint8Array};

/**
 * The answers to one GetStream request for `image` (undefined: no such stream). Yields the data
 * messages one at a time, so a caller sends each before the next block is copied.
 */
export function* answerGetStream(image: Uint8Array | undefined, request: Uint8Array): Generator<StreamAnswer> {
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
	const blocks = Math.ceil(image.length / blockSize);
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
		const payload = image.subarray(start, Math.min(start + blockSize, image.length));
		if (payload.length > budget) break;
		budget -= payload.length;
		sent++;
		yield {kind: "data", payload: encodeStreamBlock(STREAM_FILE_ID, index, payload, clientToken)};
	}
}
