/*
 * Frames between the XS guest and the Node harness: a 4-byte big-endian length, a JSON head of
 * that many UTF-8 bytes, then raw bytes (an HTTP chunk, a flash write). Shared by both sides, so
 * both speak exactly the same format; binary data never goes through JSON.
 */

export type FrameHead = {readonly [key: string]: unknown};

export interface Frame {
	readonly head: FrameHead;
	readonly bytes: Uint8Array;
}

interface TextCodecs {
	TextEncoder: new () => {encode(text: string): Uint8Array};
	TextDecoder: new () => {decode(bytes: Uint8Array): string};
}

const codecs = globalThis as unknown as TextCodecs;
const encoder = new codecs.TextEncoder();
const decoder = new codecs.TextDecoder();
const EMPTY = new Uint8Array(0);

/** A frame in a buffer of its own (the buffer is exactly the frame). */
export function encodeFrame(head: FrameHead, bytes: Uint8Array = EMPTY): Uint8Array {
	const json = encoder.encode(JSON.stringify(head));
	const frame = new Uint8Array(4 + json.length + bytes.length);
	new DataView(frame.buffer).setUint32(0, json.length);
	frame.set(json, 4);
	frame.set(bytes, 4 + json.length);
	return frame;
}

/** Throws on a malformed frame. `bytes` is a view into `frame`. */
export function decodeFrame(frame: Uint8Array): Frame {
	if (frame.length < 4) throw new Error(`frame of ${frame.length} bytes has no head length`);
	const length = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
	if (4 + length > frame.length)
		throw new Error(`frame head of ${length} bytes exceeds the frame (${frame.length} bytes)`);
	const head: unknown = JSON.parse(decoder.decode(frame.subarray(4, 4 + length)));
	if (typeof head !== "object" || head === null || Array.isArray(head))
		throw new Error("frame head is not a JSON object");
	return {head: head as FrameHead, bytes: frame.subarray(4 + length)};
}
