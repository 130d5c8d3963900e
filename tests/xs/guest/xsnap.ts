/*
 * The globals of the xsnap worker (the real XS engine driven by tests/xs/harness), typed here
 * instead of declared globally, so that the host type check (with Node's types) and the XS
 * build (ES2022, no Node types) both accept the guest files. memoryStats and setAllocationLimit
 * come from this project's worker patch (scripts/xsnap-setup.mjs).
 */

/** XS's own memory counters (bytes of chunks, counts of slots) as the patched worker reports them. */
export interface XsMemoryStats {
	readonly chunks: number;
	readonly chunksPeak: number;
	readonly slots: number;
	readonly slotsPeak: number;
	readonly slotSize: number;
	/** Bytes taken from the system so far (chunks, slots and stack); XS never gives them back. */
	readonly allocated: number;
	readonly allocationLimit: number;
	readonly chunksCapacity: number;
	readonly slotsCapacity: number;
}

interface TextEncoderLike {
	encode(text: string): Uint8Array;
}

interface TextDecoderLike {
	decode(bytes: Uint8Array): string;
}

export interface XsnapGlobals {
	/** Synchronous call into the Node side: the worker blocks until Node answers. */
	issueCommand(request: ArrayBuffer): ArrayBuffer;
	/** What the worker calls for each command from Node; its ArrayBuffer result is the reply. */
	handleCommand?: (request: ArrayBuffer) => ArrayBuffer;
	print(...values: unknown[]): void;
	setImmediate(callback: () => void): void;
	gc(): void;
	memoryStats(resetPeaks?: boolean): XsMemoryStats;
	setAllocationLimit(bytes: number): void;
	/** Sets the crank's meter limit (0: none) and index; returns the index it replaced. */
	resetMeter(limit: number, index: number): number;
	TextEncoder: new () => TextEncoderLike;
	TextDecoder: new () => TextDecoderLike;
}

export const xsnap = globalThis as unknown as XsnapGlobals;

/** The XS meter (computation units) of the current command so far. */
export function meterNow(): number {
	const index = xsnap.resetMeter(0, 0);
	xsnap.resetMeter(0, index);
	return index;
}
