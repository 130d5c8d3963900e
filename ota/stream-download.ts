/*
 * One download of an image over an MQTT file stream (docs/protocol.md §5.10), as esp-rainmaker's
 * esp_rmaker_mqtt_ota.c does it: subscribe to the stream's data and rejected topics, publish a
 * GetStream request for a batch of blocks (offset, count and the bitmap of the blocks still
 * wanted), and hand each block to the same sink as the HTTP download (ota/update-engine.ts
 * ImageSink: header checks, journal, progress). Blocks are taken in order only, one at a time: the
 * block in hand is a view into the MQTT message and goes to the sink at once, nothing is held. A
 * duplicate is ignored; a block ahead of the next one wanted, a block of another file or of the
 * wrong length is dropped and asked for again (the next request's bitmap names exactly the
 * blocks not yet written). Without a new block for the per-block wait the batch is asked for again,
 * up to streamMaxRetries times in a row; a rejection, a lost link or the deadline end the attempt
 * (the update engine then retries it, resuming at the last checkpoint).
 */
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import type {DownloadSink, Transfer} from "./download";
import {errorText, failed, type Failure} from "./outcome";
import type {StreamLink} from "./ports";
import {StatusText} from "./status";
import {
	decodeStreamBlock,
	decodeStreamRejection,
	encodeGetStream,
	fullBitmap,
	STREAM_FILE_ID,
	streamTopic,
} from "./stream-protocol";

/** The reference waits this long for the MQTT link before an attempt (WAIT_FOR_MQTT_TIMEOUT_SEC), polling every 500 ms. */
export const STREAM_LINK_WAIT_MS = 60_000;
const LINK_POLL_MS = 500;

export interface StreamDownloadOptions {
	readonly nodeId: string;
	readonly streamId: string;
	/** The image's size in bytes (file_size of the job; required for a stream). */
	readonly fileSize: number;
	/** First byte wanted (a resume point; need not be a block boundary). */
	readonly offset: number;
	readonly blockSize: number;
	readonly blocksPerRequest: number;
	readonly blockWaitMs: number;
	readonly maxRetries: number;
	/** The whole transfer must end within this many ms (0 = no deadline). */
	readonly deadlineMs: number;
}

export class StreamDownload implements Transfer {
	readonly #link: StreamLink;
	readonly #timers: Timers;
	readonly #log: Log;
	readonly #options: StreamDownloadOptions;
	readonly #sink: DownloadSink;
	readonly #dataTopic: string;
	readonly #rejectedTopic: string;
	readonly #getTopic: string;
	readonly #totalBlocks: number;
	/** The request's bitmap, allocated once (at most 64 bytes for 512 blocks). */
	readonly #bitmap: Uint8Array;
	#next: number; // the next block to write
	#skip: number; // bytes of block #next already in the slot (a resume inside a block)
	#batchEnd = 0; // one past the last block of the batch asked for
	#retries = 0;
	#wait: TimerHandle | undefined;
	#deadline: TimerHandle | undefined;
	#linkWait: TimerHandle | undefined;
	#linkWaitStarted = 0;
	#stopLinkLost: (() => void) | undefined;
	#started = false;
	#finished = false;
	#received = 0; // blocks accepted, for the log
	#dropped = 0; // blocks ignored (duplicates, out of order, wrong file or length)

	constructor(link: StreamLink, timers: Timers, log: Log, options: StreamDownloadOptions, sink: DownloadSink) {
		this.#link = link;
		this.#timers = timers;
		this.#log = log;
		this.#options = options;
		this.#sink = sink;
		this.#dataTopic = streamTopic(options.nodeId, options.streamId, "data");
		this.#rejectedTopic = streamTopic(options.nodeId, options.streamId, "rejected");
		this.#getTopic = streamTopic(options.nodeId, options.streamId, "get");
		this.#totalBlocks = Math.ceil(options.fileSize / options.blockSize);
		this.#next = Math.floor(options.offset / options.blockSize);
		this.#skip = options.offset - this.#next * options.blockSize;
		this.#bitmap = new Uint8Array((options.blocksPerRequest + 7) >> 3);
	}

	/** Blocks accepted and blocks dropped so far (tests and the log). */
	get counts(): {readonly received: number; readonly dropped: number} {
		return {received: this.#received, dropped: this.#dropped};
	}

	start(): void {
		if (this.#started) return;
		this.#started = true;
		const {deadlineMs, offset, fileSize} = this.#options;
		if (deadlineMs > 0)
			this.#deadline = this.#timers.set(() => {
				this.#deadline = undefined;
				this.abort(failed(`download not complete within ${Math.round(deadlineMs / 1000)} s (too slow)`));
			}, deadlineMs);
		let refusal: Failure | undefined;
		try {
			refusal = this.#sink.onStart(offset, fileSize);
		} catch (error) {
			refusal = failed(`OTA failed: ${errorText(error)}`);
		}
		if (refusal) return this.#finish(refusal);
		if (this.#next >= this.#totalBlocks) return this.#finish();
		this.#stopLinkLost = this.#link.onLinkLost(reason =>
			this.abort(failed(`MQTT link lost during the stream download (${reason})`)),
		);
		this.#link.subscribeBinary(this.#rejectedTopic, payload => this.#onRejected(payload));
		this.#link.subscribeBinary(this.#dataTopic, payload => this.#onData(payload));
		this.#linkWaitStarted = this.#timers.now();
		this.#whenLinked();
	}

	abort(failure: Failure): void {
		this.#finish(failure);
	}

	/** Sends the first request once the link is up (the reference waits up to 60 s for it). */
	#whenLinked(): void {
		this.#linkWait = undefined;
		if (this.#finished) return;
		if (this.#link.connected) return this.#request();
		if (this.#timers.now() - this.#linkWaitStarted >= STREAM_LINK_WAIT_MS)
			return this.#finish(failed(StatusText.mqttNotConnected));
		if (this.#linkWaitStarted === this.#timers.now())
			this.#log.warn("Waiting for MQTT to reconnect before the stream download");
		this.#linkWait = this.#timers.set(() => this.#whenLinked(), LINK_POLL_MS);
	}

	/** Asks for the blocks from #next to the end of a batch, and waits for them. */
	#request(): void {
		const {blocksPerRequest, blockSize, blockWaitMs} = this.#options;
		const count = Math.min(blocksPerRequest, this.#totalBlocks - this.#next);
		this.#batchEnd = this.#next + count;
		const bitmap = fullBitmap(count, this.#bitmap);
		const request = encodeGetStream({fileId: STREAM_FILE_ID, blockSize, offset: this.#next, count, bitmap});
		this.#timers.clear(this.#wait);
		this.#wait = this.#timers.set(() => this.#waited(), blockWaitMs);
		this.#link.publishBinary(this.#getTopic, request, error => {
			if (error && !this.#finished) this.#log.warn(`GetStream request not delivered: ${error.message}`);
		});
	}

	/** No block within the wait: ask again. */
	#waited(): void {
		this.#wait = undefined;
		if (this.#finished) return;
		const {blockWaitMs, streamId} = this.#options;
		this.#askAgain(`no block ${this.#next} of stream ${streamId} within ${Math.round(blockWaitMs / 1000)} s`);
	}

	/** Asks for the missing blocks again, or ends the attempt after maxRetries re-requests without progress. */
	#askAgain(why: string): void {
		const {maxRetries, blockWaitMs} = this.#options;
		if (this.#retries >= maxRetries)
			return this.#finish(failed(`${why}, ${maxRetries} re-requests without progress`));
		this.#retries++;
		this.#log.warn(`${why}; asking again (${this.#retries}/${maxRetries})`);
		if (this.#link.connected) this.#request();
		else {
			this.#timers.clear(this.#wait);
			this.#wait = this.#timers.set(() => this.#waited(), blockWaitMs);
		}
	}

	#onRejected(payload: Uint8Array): void {
		if (this.#finished) return;
		const {code, message} = decodeStreamRejection(payload);
		this.#finish(
			failed(
				`stream ${this.#options.streamId} request rejected${code ? `: ${code}` : ""}${message ? ` (${message.slice(0, 80)})` : ""}`,
			),
		);
	}

	#onData(payload: Uint8Array): void {
		if (this.#finished) return;
		const block = decodeStreamBlock(payload);
		if (typeof block === "string") return this.#drop(`undecodable data message: ${block}`);
		const {blockSize, fileSize} = this.#options;
		if (block.index < this.#next || block.index >= this.#batchEnd) return this.#drop(undefined); // a duplicate or a late one
		const expected = Math.min(blockSize, fileSize - block.index * blockSize);
		let fault: string | undefined;
		if (block.fileId !== STREAM_FILE_ID)
			fault = `block ${block.index} of file ${block.fileId}, not ${STREAM_FILE_ID}`;
		else if (block.payload.length !== expected || block.length !== block.payload.length)
			fault = `block ${block.index} of ${block.payload.length} bytes (l ${block.length}), expected ${expected}`;
		if (fault !== undefined) {
			this.#drop(fault);
			if (block.index === this.#next) this.#askAgain(`bad ${fault}`);
			return;
		}
		if (block.index > this.#next) {
			// Out of order: dropped; once the batch's last block is in, ask at once for what is missing.
			this.#drop(undefined);
			if (block.index === this.#batchEnd - 1) this.#askAgain(`block ${this.#next} missing from the batch`);
			return;
		}
		let refusal: Failure | undefined;
		try {
			const bytes = this.#skip > 0 ? block.payload.subarray(this.#skip) : block.payload;
			this.#skip = 0;
			refusal = this.#sink.onData(bytes);
		} catch (error) {
			refusal = failed(`OTA failed: ${errorText(error)}`);
		}
		if (refusal) return this.#finish(refusal);
		this.#next++;
		this.#received++;
		this.#retries = 0;
		if (this.#next >= this.#totalBlocks) return this.#finish();
		if (this.#next >= this.#batchEnd) this.#request();
		else {
			this.#timers.clear(this.#wait);
			this.#wait = this.#timers.set(() => this.#waited(), this.#options.blockWaitMs);
		}
	}

	#drop(reason: string | undefined): void {
		this.#dropped++;
		if (reason !== undefined) this.#log.warn(`Stream block dropped: ${reason}`);
	}

	#finish(failure?: Failure): void {
		if (this.#finished) return;
		this.#finished = true;
		this.#timers.clear(this.#wait);
		this.#timers.clear(this.#deadline);
		this.#timers.clear(this.#linkWait);
		this.#wait = this.#deadline = this.#linkWait = undefined;
		this.#stopLinkLost?.();
		this.#stopLinkLost = undefined;
		if (this.#started) {
			this.#link.unsubscribeBinary(this.#dataTopic);
			this.#link.unsubscribeBinary(this.#rejectedTopic);
		}
		if (this.#dropped > 0)
			this.#log.info(
				`Stream ${this.#options.streamId}: ${this.#received} blocks taken, ${this.#dropped} dropped`,
			);
		this.#sink.onEnd(failure);
	}
}
