/*
 * The guest end of the bridge. Port stand-ins call the Node side synchronously (`call`: the
 * worker blocks in issueCommand until Node answers), and Node delivers events (a timer fired,
 * an MQTT message, an HTTP chunk, a driver request) as commands that `handleCommand` dispatches
 * to the handler registered for the event's type. A handler's exception never escapes into XS
 * (where xsnap would only print it): it is answered as an error and reported as a fault.
 */
import {decodeFrame, encodeFrame, type FrameHead} from "./frame";
import {meterNow, xsnap} from "./xsnap";

export interface CallResult {
	readonly value: unknown;
	readonly bytes: Uint8Array;
}

export type EventHandler = (head: FrameHead, bytes: Uint8Array) => unknown;

const handlers = new Map<string, EventHandler>();
let afterEvent: ((type: string) => void) | undefined;

/**
 * XS compute spent in the bridge itself (framing, JSON heads, issueCommand) during the current
 * event: on the device these calls are native module calls, so the benchmarks subtract it.
 */
let bridgeCompute = 0;

/** The frame of the event being handled: its bytes are on the Node side already. */
let eventBuffer: ArrayBufferLike | undefined;

function send(frame: Uint8Array): Uint8Array {
	// encodeFrame gives the frame a buffer of its own, so the whole buffer is the frame.
	return new Uint8Array(xsnap.issueCommand(frame.buffer as ArrayBuffer));
}

/**
 * Calls `op` of the Node-side `port`. Throws the Node side's error message as an Error. Bytes
 * that are a view into the current event's frame (an HTTP chunk) go as a reference, not a copy:
 * on the device the chunk goes from the socket's buffer to the native flash write with no copy
 * in JS either, so the XS heap sees what it would see there. With `copy` they go in the frame
 * anyway, so the Node side gets exactly the bytes XS handed over (the partition's writes: a byte
 * changed inside XS must reach the slot and fail its verification).
 */
export function call(
	port: string,
	op: string,
	args: readonly unknown[] = [],
	bytes?: Uint8Array,
	copy = false,
): CallResult {
	const start = meterNow();
	const frame =
		bytes !== undefined && bytes.buffer === eventBuffer && !copy
			? encodeFrame({port, op, args, ref: [bytes.byteOffset, bytes.byteLength]})
			: encodeFrame({port, op, args}, bytes);
	const reply = decodeFrame(send(frame));
	bridgeCompute += meterNow() - start;
	if (typeof reply.head.error === "string") throw new Error(reply.head.error);
	return {value: reply.head.value, bytes: reply.bytes};
}

export function messageOf(error: unknown): string {
	return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Tells the Node side that something failed inside XS where no caller could see it. */
export function fault(where: string, error: unknown): void {
	const stack = error instanceof Error && typeof error.stack === "string" ? error.stack : "";
	call("harness", "fault", [where, messageOf(error), stack]);
}

/** Registers the handler of one event type (one per type). */
export function on(type: string, handler: EventHandler): void {
	if (handlers.has(type)) throw new Error(`event ${type} already has a handler`);
	handlers.set(type, handler);
}

function dispatch(request: ArrayBuffer): ArrayBuffer {
	let type = "?";
	bridgeCompute = 0;
	eventBuffer = request;
	try {
		const start = meterNow();
		const {head, bytes} = decodeFrame(new Uint8Array(request));
		bridgeCompute += meterNow() - start;
		type = String(head.type);
		const handler = handlers.get(type);
		if (!handler) throw new Error(`no handler for event ${type}`);
		const value = handler(head, bytes);
		afterEvent?.(type);
		// The reply's encoding is not in `bridge` (it carries the number): the benchmarks calibrate it with an empty event.
		return encodeFrame({value: value === undefined ? null : value, bridge: bridgeCompute}).buffer as ArrayBuffer;
	} catch (error) {
		try {
			fault(`event ${type}`, error);
		} catch {
			// The fault report itself failed: the error reply below still tells the Node side.
		}
		return encodeFrame({error: messageOf(error)}).buffer as ArrayBuffer;
	} finally {
		eventBuffer = undefined;
	}
}

/** Runs `hook` after each event's handler (the benchmarks sample the live heap there); undefined removes it. */
export function setAfterEvent(hook: ((type: string) => void) | undefined): void {
	afterEvent = hook;
}

/** Installs the command handler and tells the Node side that the guest is loaded. */
export function ready(name: string): void {
	xsnap.handleCommand = dispatch;
	call("harness", "ready", [name]);
}
