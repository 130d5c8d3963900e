/*
 * The update engine: runs one approved job to the end as the reference's default OTA callback does
 * (docs/protocol.md §5.8, §5.9, §5.11). Up to `maxAttempts` HTTP(S) attempts; each streams the
 * image into the inactive slot in the chunks the HTTP client delivers, after checking the first
 * 328 bytes (app descriptor and firmware identity: project, version, the approved version, secure
 * version, then chip id and revision, docs/protocol.md §5.12) before a single byte is written. A refused image ends the job at once (`rejected`, no retry); other failures are
 * reported `failed` "OTA Attempt n/N failed: ..." and retried, resuming from the last
 * sector-aligned checkpoint when the job and its file_md5 are the same and the server honours
 * Range. Every attempt has a deadline (stall timeout + size / minDownloadRate). Nothing here
 * throws to its caller: every failure becomes a typed outcome (outcome.ts) that is reported.
 * The slot only becomes the boot choice after UpdatePartition.end() verified the whole image.
 */
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import {Download, type DownloadSink, type Transfer} from "./download";
import {type AppImageInfo, checkUpgrade, HEADER_PROBE_LENGTH, parseImageHeader, toHex} from "./image";
import type {OtaJournal} from "./journal";
import {errorText, failed, type Failure, failureOf, ImageInvalidError, rejected} from "./outcome";
import type {OtaOptions} from "./options";
import type {OtaJob} from "./otaurl";
import type {BootControl, Digest, DigestFactory, HttpClient, StreamLink, UpdatePartition} from "./ports";
import type {StatusReporter} from "./reporter";
import {StatusText} from "./status";
import {StreamDownload} from "./stream-download";

/** Flash sector: resume offsets are multiples of it (a partly written sector is written again). */
export const SECTOR_SIZE = 4096;
/** The resume offset is saved every this many bytes, so the key-value store is written ~16 times per MB at most. */
export const CHECKPOINT_BYTES = 64 * 1024;
/** Slot bytes re-read per step when the MD5 of a resumed image is computed. */
const READ_BACK_BYTES = 4096;

export interface UpdateEngineContext {
	readonly http: HttpClient;
	readonly timers: Timers;
	readonly log: Log;
	readonly journal: OtaJournal;
	readonly partition: UpdatePartition;
	readonly boot: BootControl;
	readonly createDigest: DigestFactory;
	readonly reporter: StatusReporter;
	readonly options: OtaOptions;
	/** The running image's header facts. */
	readonly running: AppImageInfo;
	/** The MQTT link and node id, for options.transport "mqtt-stream" (docs/protocol.md §5.10). */
	readonly stream?: {readonly link: StreamLink; readonly nodeId: string};
}

/** How a job ended: the node reboots into the new image, or the job failed or was rejected. */
export type InstallOutcome = {readonly kind: "rebooting"} | Failure;

export interface UpdateProgress {
	readonly jobId: string;
	readonly attempt: number;
	readonly received: number;
	readonly total: number;
}

/** Installs an approved job (the update engine; a recording double in tests). */
export interface Installer {
	/** The transfer in progress, if any. */
	readonly progress: UpdateProgress | undefined;
	/** Installs `job`; `done` runs once with the outcome (possibly before run returns). Never throws. */
	run(job: OtaJob, done: (outcome: InstallOutcome) => void): void;
	/** Stops the transfer and a pending reboot (firmware.stop()); `done` is not called afterwards. */
	stop(): void;
}

export class UpdateEngine implements Installer {
	#context: UpdateEngineContext;
	#job: OtaJob | undefined;
	#attemptNumber = 0;
	#sink: ImageSink | undefined;
	#download: Transfer | undefined;
	#reboot: TimerHandle | undefined;
	#run = 0; // identifies the current run, so callbacks of a stopped one are ignored

	constructor(context: UpdateEngineContext) {
		this.#context = context;
	}

	get progress(): UpdateProgress | undefined {
		const job = this.#job;
		if (!job) return undefined;
		return {
			jobId: job.jobId,
			attempt: this.#attemptNumber,
			received: this.#sink?.offset ?? 0,
			total: this.#sink?.total ?? job.fileSize,
		};
	}

	run(job: OtaJob, done: (outcome: InstallOutcome) => void): void {
		const {journal, reporter, options, log} = this.#context;
		const run = ++this.#run;
		this.#job = job;
		const finish = (outcome: InstallOutcome) => {
			if (run !== this.#run) return;
			this.#job = undefined;
			this.#sink = this.#download = undefined;
			if (outcome.kind !== "rebooting") journal.endInstall();
			done(outcome);
		};
		try {
			journal.beginInstall(job.jobId);
		} catch (error) {
			const failure = failureOf(error);
			reporter.report("failed", failure.text, job.jobId);
			finish(failure);
			return;
		}
		const protocol = options.transport === "mqtt-stream" ? "MQTT" : "HTTPS";
		const attempt = (n: number) => {
			this.#attemptNumber = n;
			reporter.report("in-progress", StatusText.starting(n, options.maxAttempts, protocol), job.jobId);
			this.#attempt(job, run, outcome => {
				if (run !== this.#run) return;
				this.#sink = this.#download = undefined;
				if (outcome === undefined) {
					this.#rebootInto(job, n, protocol);
					finish({kind: "rebooting"});
					return;
				}
				if (outcome.kind === "rejected") {
					reporter.report("rejected", outcome.text, job.jobId);
					finish(outcome);
					return;
				}
				reporter.report("failed", StatusText.attemptFailed(n, options.maxAttempts, outcome.text), job.jobId);
				if (n < options.maxAttempts) {
					attempt(n + 1);
					return;
				}
				log.warn(`OTA job ${job.jobId}: all ${n} attempts failed`);
				finish(outcome);
			});
		};
		attempt(1);
	}

	stop(): void {
		this.#run++;
		this.#download?.abort(failed("stopped"));
		this.#context.timers.clear(this.#reboot);
		this.#reboot = this.#download = this.#sink = this.#job = undefined;
	}

	/** Success: the journal says a new image is about to boot (written before end()); reboot after the delay. */
	#rebootInto(job: OtaJob, attempts: number, protocol: string): void {
		const {reporter, options, timers, boot, log} = this.#context;
		if (!options.autoReboot) {
			// the application reboots when it chooses (docs/product.md, "Reboot when the application says")
			reporter.report("in-progress", StatusText.awaitingReboot(attempts, protocol), job.jobId);
			log.info("New firmware installed; waiting for the application to reboot into it");
			return;
		}
		reporter.report("in-progress", StatusText.rebooting(attempts, protocol), job.jobId);
		log.info(`Rebooting into the new firmware in ${options.rebootDelaySeconds} s`);
		this.#reboot = timers.set(() => {
			this.#reboot = undefined;
			boot.restart();
		}, options.rebootDelaySeconds * 1000);
	}

	/** One attempt; `done` gets undefined when the image is in place and selected, else the Failure. */
	#attempt(job: OtaJob, run: number, done: (failure: Failure | undefined) => void): void {
		const context = this.#context;
		const {partition, log, journal, options} = context;
		let offset: number;
		try {
			// A resumed image's MD5 needs the slot read back; without that a job with an MD5 starts from 0.
			const resumeAt = journal.resumePoint(job, SECTOR_SIZE);
			offset = partition.begin(job.fileMd5 !== undefined && partition.read === undefined ? 0 : resumeAt);
			if (resumeAt > 0)
				log.info(
					offset === resumeAt
						? `Resuming the download at byte ${offset}`
						: `Cannot resume at byte ${resumeAt}; starting from 0`,
				);
		} catch (error) {
			done(failureOf(error, "OTA Begin failed: "));
			return;
		}
		const size = job.fileSize > 0 ? job.fileSize : partition.capacity;
		const deadlineMs = (options.downloadStallSeconds + Math.ceil(size / options.minDownloadRate)) * 1000;
		const streamed = options.transport === "mqtt-stream";
		// A stream's resume point is saved at its batch boundaries, as the reference's mqtt_ota_off.
		const checkpointBytes = streamed ? options.streamBlockSize * options.streamBlocksPerRequest : CHECKPOINT_BYTES;
		const sink = new ImageSink(context, job, offset, checkpointBytes, done);
		let transfer: Transfer;
		if (!streamed)
			transfer = new Download(
				context.http,
				context.timers,
				job.url,
				{offset, stallMs: options.downloadStallSeconds * 1000, deadlineMs, allowHttp: options.allowHttp},
				sink,
			);
		else if (job.streamId === undefined || job.fileSize <= 0 || !context.stream) {
			partition.abort();
			done(failed(context.stream ? StatusText.streamWithoutSize : "no MQTT link for the stream download"));
			return;
		} else
			transfer = new StreamDownload(
				context.stream.link,
				context.timers,
				log,
				{
					nodeId: context.stream.nodeId,
					streamId: job.streamId,
					fileSize: job.fileSize,
					offset,
					blockSize: options.streamBlockSize,
					blocksPerRequest: options.streamBlocksPerRequest,
					blockWaitMs: options.streamBlockWaitSeconds * 1000,
					maxRetries: options.streamMaxRetries,
					deadlineMs,
				},
				sink,
			);
		this.#sink = sink;
		this.#download = transfer;
		if (run === this.#run) transfer.start();
	}
}

/**
 * Receives the image bytes of one attempt: holds back the first 328 bytes until the header checks
 * pass, then writes every chunk straight through, never past file_size. The only buffers are that
 * header (328 bytes) and, when a resumed image's MD5 is checked, one 4 KB read-back piece.
 */
class ImageSink implements DownloadSink {
	#context: UpdateEngineContext;
	#job: OtaJob;
	#offset: number; // file offset of the next byte to write
	#total: number;
	#header: Uint8Array | undefined; // bytes before the header was checked (offset 0 only)
	#headerLength = 0;
	#md5: Digest | undefined;
	#lastPercent = 0;
	#checkpoint: number;
	readonly #checkpointBytes: number;
	#failure: Failure | undefined;
	#done: (failure: Failure | undefined) => void;

	constructor(
		context: UpdateEngineContext,
		job: OtaJob,
		offset: number,
		checkpointBytes: number,
		done: (failure: Failure | undefined) => void,
	) {
		this.#context = context;
		this.#job = job;
		this.#offset = offset;
		this.#total = job.fileSize;
		this.#checkpointBytes = checkpointBytes;
		this.#checkpoint = offset + checkpointBytes;
		this.#done = done;
		this.#restart(offset);
	}

	/** File offset of the next byte (= bytes of the image received so far). */
	get offset(): number {
		return this.#offset;
	}

	/** Size of the image, 0 while unknown. */
	get total(): number {
		return this.#total;
	}

	onEnd(failure?: Failure): void {
		let result: Failure | undefined;
		try {
			result = this.#conclude(failure);
		} catch (error) {
			this.#abandon();
			result = failureOf(error, "OTA failed: ");
		}
		this.#done(result);
	}

	#restart(offset: number): void {
		this.#offset = offset;
		this.#header = offset === 0 ? new Uint8Array(HEADER_PROBE_LENGTH) : undefined;
		this.#headerLength = 0;
		this.#md5 = this.#job.fileMd5 !== undefined ? this.#context.createDigest("MD5") : undefined;
		if (offset > 0) {
			this.#readBack(offset);
			this.#context.reporter.report("in-progress", StatusText.downloading, this.#job.jobId);
		}
	}

	/** Feeds the slot's first `length` bytes (kept from an earlier attempt) to the MD5, in bounded pieces. */
	#readBack(length: number): void {
		const md5 = this.#md5;
		const read = this.#context.partition.read;
		if (!md5 || !read) return;
		const piece = new Uint8Array(READ_BACK_BYTES);
		for (let at = 0; at < length; at += READ_BACK_BYTES) {
			const view = length - at < READ_BACK_BYTES ? piece.subarray(0, length - at) : piece;
			read.call(this.#context.partition, at, view);
			md5.write(view);
		}
	}

	onStart(start: number, total: number): Failure | undefined {
		const {partition, log, journal} = this.#context;
		try {
			if (start !== this.#offset) {
				if (start !== 0) return failed(`server sent bytes from ${start}, expected ${this.#offset}`);
				log.info(
					"The server sends the image from byte 0 (Range ignored or refused); downloading from the start",
				);
				journal.dropCheckpoint();
				partition.abort();
				this.#restart(partition.begin(0));
				this.#checkpoint = this.#checkpointBytes;
			}
		} catch (error) {
			return failureOf(error, "OTA Begin failed: ");
		}
		if (total > 0) {
			if (this.#job.fileSize > 0 && total !== this.#job.fileSize)
				return failed(`image is ${total} bytes, the job says ${this.#job.fileSize}`);
			this.#total = total;
		}
		if (this.#total > partition.capacity)
			return (this.#failure = rejected(
				`Image too large for the OTA partition (${this.#total} > ${partition.capacity} bytes)`,
			));
		return undefined;
	}

	onData(chunk: Uint8Array): Failure | undefined {
		if (this.#failure) return this.#failure;
		try {
			if (this.#total > 0 && this.#offset + chunk.length > this.#total)
				return (this.#failure = failed(`more data than file_size (${this.#total} bytes)`));
			if (this.#header !== undefined) {
				const take = Math.min(chunk.length, this.#header.length - this.#headerLength);
				this.#header.set(chunk.subarray(0, take), this.#headerLength);
				this.#headerLength += take;
				if (this.#headerLength < this.#header.length) return undefined;
				const header = this.#header;
				this.#header = undefined;
				const verdict = this.#judge(header);
				if (verdict) return (this.#failure = verdict);
				this.#context.reporter.report("in-progress", StatusText.downloading, this.#job.jobId);
				this.#write(header);
				chunk = chunk.subarray(take);
				if (chunk.length === 0) return undefined;
			}
			this.#write(chunk);
			return undefined;
		} catch (error) {
			return (this.#failure = failureOf(error, "OTA failed: "));
		}
	}

	#judge(header: Uint8Array): Failure | undefined {
		const {running, boot, options, log} = this.#context;
		let candidate: AppImageInfo;
		try {
			candidate = parseImageHeader(header);
		} catch (error) {
			return rejected(`Invalid firmware image: ${errorText(error)}`);
		}
		const verdict = checkUpgrade(
			candidate,
			running,
			boot.minSecureVersion(),
			{chipRevision: boot.chipRevision(), approvedVersion: this.#job.fwVersion || undefined},
			options,
		);
		log.info(
			`New image: ${candidate.projectName} ${candidate.version}${candidate.identity !== undefined ? ` (firmware ${candidate.identity})` : ""}, secure version ${candidate.secureVersion}, chip ${candidate.chipId}${verdict ? ": " + verdict : ""}`,
		);
		return verdict ? rejected(verdict) : undefined;
	}

	#write(bytes: Uint8Array): void {
		const {partition, journal, options, reporter, log} = this.#context;
		partition.write(bytes);
		this.#md5?.write(bytes);
		this.#offset += bytes.length;
		if (this.#offset >= this.#checkpoint) {
			this.#checkpoint = this.#offset + this.#checkpointBytes;
			journal.checkpoint(this.#offset - (this.#offset % SECTOR_SIZE));
		}
		if (this.#total > 0) {
			const percent = Math.floor((this.#offset * 100) / this.#total);
			const last = this.#lastPercent;
			if (percent <= last) return;
			this.#lastPercent = percent;
			// Report each multiple of the interval crossed (a chunk may jump over one), never 0 % or 100 %.
			const step = options.progressIntervalPercent;
			if (step > 0 && percent < 100 && Math.floor(percent / step) > Math.floor(last / step))
				reporter.report("in-progress", StatusText.downloaded(percent - (percent % step)), this.#job.jobId);
			else if (Math.floor(percent / 10) > Math.floor(last / 10))
				// the console's progress line when no report says it
				log.info(`OTA download ${percent}% (${this.#offset} of ${this.#total} bytes)`);
		}
	}

	/** Abandons the slot and the resume point: its bytes are not the job's. */
	#abandon(): void {
		this.#context.partition.abort();
		this.#context.journal.clearResume();
	}

	/** The attempt's result once the transfer ended (`failure` from the download). */
	#conclude(failure: Failure | undefined): Failure | undefined {
		const {partition, journal, reporter, log} = this.#context;
		const own = this.#failure;
		if (own?.kind === "rejected") {
			this.#abandon();
			return own;
		}
		if (failure !== undefined || own !== undefined) {
			partition.abort();
			// Keep what is in the slot for the next attempt, never past the image's end.
			const kept = Math.min(this.#offset, this.#total > 0 ? this.#total : this.#offset);
			const aligned = kept - (kept % SECTOR_SIZE);
			try {
				if (aligned > 0) journal.checkpoint(aligned);
			} catch (error) {
				log.warn(`No resume point saved: ${errorText(error)}`);
			}
			return own ?? failure;
		}
		if (this.#header !== undefined) {
			this.#abandon();
			return rejected(`Invalid firmware image: only ${this.#headerLength} bytes`);
		}
		if (this.#total > 0 && this.#offset !== this.#total) {
			partition.abort();
			return failed(`${StatusText.incompleteData} (${this.#offset} of ${this.#total} bytes)`);
		}
		if (this.#md5) {
			const md5 = toHex(this.#md5.close());
			if (md5 !== this.#job.fileMd5) {
				this.#abandon();
				return failed(`MD5 mismatch (got ${md5})`);
			}
		}
		reporter.report("in-progress", StatusText.downloadComplete, this.#job.jobId);
		// Written before the boot switch: a new image never boots without the journal knowing.
		try {
			journal.markRebooting(this.#job.fwVersion ?? "");
		} catch (error) {
			journal.clearUpdatePending();
			this.#abandon();
			return failureOf(error);
		}
		try {
			partition.end();
		} catch (error) {
			journal.clearUpdatePending();
			this.#abandon();
			return error instanceof ImageInvalidError
				? failed(error.message)
				: failed(`OTA finish failed: ${errorText(error)}`);
		}
		journal.clearResume();
		return undefined;
	}
}
