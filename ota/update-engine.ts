/*
 * The update engine: runs one approved job to the end as the reference's default OTA callback does
 * (docs/protocol.md §5.8, §5.9, §5.11). Up to `maxAttempts` HTTPS attempts; each streams the image
 * into the inactive slot in the chunks the HTTP client delivers, after checking the first 289 bytes
 * (magic, chip, app descriptor, project, version, secure version) before a single byte is written.
 * A refused image ends the job at once (`rejected`, no retry); other failures are reported
 * `failed` "OTA Attempt n/N failed: ..." and retried, resuming from the last sector-aligned offset
 * when the job and its file_md5 are the same and the server honours Range. The slot only becomes
 * the boot choice after UpdatePartition.end() verified the whole image.
 */
import type {KeyValueStore, Log, TimerHandle, Timers} from "../rainmaker/ports";
import {Download, type DownloadSink} from "./download";
import {type AppImageInfo, APP_DESC_END, checkUpgrade, ImageError, parseImageHeader, toHex} from "./image";
import {OtaKeys} from "./keys";
import type {OtaOptions} from "./options";
import type {OtaJob} from "./otaurl";
import type {BootControl, Digest, DigestFactory, HttpClient, UpdatePartition} from "./ports";
import type {StatusReporter} from "./reporter";
import {StatusText} from "./status";

/** Flash sector: resume offsets are multiples of it (a partly written sector is written again). */
export const SECTOR_SIZE = 4096;
/** The resume offset is saved every this many bytes, so the key-value store is written ~16 times per MB at most. */
export const CHECKPOINT_BYTES = 64 * 1024;

export interface UpdateEngineContext {
	readonly http: HttpClient;
	readonly timers: Timers;
	readonly log: Log;
	readonly store: KeyValueStore;
	readonly partition: UpdatePartition;
	readonly boot: BootControl;
	readonly createDigest: DigestFactory;
	readonly reporter: StatusReporter;
	readonly options: OtaOptions;
	/** The running image's header facts. */
	readonly running: AppImageInfo;
}

/** How a job ended: the node reboots into the new image, or the job failed or was rejected. */
export type UpdateOutcome = "rebooting" | "failed" | "rejected";

export interface UpdateProgress {
	readonly jobId: string;
	readonly attempt: number;
	readonly received: number;
	readonly total: number;
}

type AttemptResult = {readonly ok: true} | {readonly ok: false; readonly rejected: boolean; readonly reason: string};

export class UpdateEngine {
	#context: UpdateEngineContext;
	#job: OtaJob | undefined;
	#attemptNumber = 0;
	#sink: ImageSink | undefined;
	#reboot: TimerHandle | undefined;

	constructor(context: UpdateEngineContext) {
		this.#context = context;
	}

	/** The job being installed, or undefined when idle. */
	get progress(): UpdateProgress | undefined {
		const job = this.#job;
		if (!job)
			return undefined;
		return {jobId: job.jobId, attempt: this.#attemptNumber, received: this.#sink?.offset ?? 0, total: this.#sink?.total ?? job.fileSize};
	}

	get busy(): boolean {
		return this.#job !== undefined || this.#reboot !== undefined;
	}

	/** Installs `job`; `done` runs once with the outcome. Throws only when an update runs already (callers check `busy`). */
	run(job: OtaJob, done: (outcome: UpdateOutcome) => void): void {
		const {store, reporter, options, log} = this.#context;
		if (this.busy)
			throw new Error("update already running");
		store.set(OtaKeys.jobId, job.jobId);
		this.#job = job;
		const attempt = (n: number) => {
			this.#attemptNumber = n;
			reporter.report("in-progress", StatusText.starting(n, options.maxAttempts), job.jobId);
			this.#attempt(job, result => {
				this.#sink = undefined;
				if (result.ok) {
					this.#job = undefined;
					this.#finish(job, n);
					done("rebooting");
					return;
				}
				if (result.rejected) {
					reporter.report("rejected", result.reason, job.jobId);
					this.#end(done, "rejected");
					return;
				}
				reporter.report("failed", StatusText.attemptFailed(n, options.maxAttempts, result.reason), job.jobId);
				if (n < options.maxAttempts) {
					attempt(n + 1);
					return;
				}
				log.warn(`OTA job ${job.jobId}: all ${n} attempts failed; fetching again in ${options.retryDelayMinutes} min`);
				this.#end(done, "failed");
			});
		};
		attempt(1);
	}

	#end(done: (outcome: UpdateOutcome) => void, outcome: UpdateOutcome): void {
		this.#job = undefined;
		this.#context.store.delete(OtaKeys.jobId);
		done(outcome);
	}

	/** Success: remember that a new image is about to boot, say so, and reboot after the delay. */
	#finish(job: OtaJob, attempts: number): void {
		const {store, reporter, options, timers, boot, log} = this.#context;
		store.set(OtaKeys.updatePending, 1);
		store.set(OtaKeys.newVersion, job.fwVersion ?? "");
		reporter.report("in-progress", StatusText.rebooting(attempts), job.jobId);
		log.info(`Rebooting into the new firmware in ${options.rebootDelaySeconds} s`);
		this.#reboot = timers.set(() => boot.restart(), options.rebootDelaySeconds * 1000);
	}

	#attempt(job: OtaJob, done: (result: AttemptResult) => void): void {
		const context = this.#context;
		const {partition, log} = context;
		const resumeAt = resumePoint(context.store, job);
		let offset: number;
		try {
			offset = partition.begin(resumeAt);
		}
		catch (error) {
			done({ok: false, rejected: false, reason: `OTA Begin failed: ${messageOf(error)}`});
			return;
		}
		if (resumeAt > 0)
			log.info(offset === resumeAt ? `Resuming the download at byte ${offset}` : `Cannot resume at byte ${resumeAt}; starting from 0`);
		this.#sink = new ImageSink(context, job, offset, done);
		new Download(context.http, context.timers, job.url, {offset, stallMs: context.options.downloadStallSeconds * 1000}, this.#sink);
	}
}

/** The offset an earlier, interrupted attempt of the same job (and the same file_md5) reached; 0 otherwise. */
function resumePoint(store: KeyValueStore, job: OtaJob): number {
	const offset = store.get(OtaKeys.resumeOffset);
	const sameJob = store.get(OtaKeys.resumeJob) === job.jobId;
	const md5 = store.get(OtaKeys.resumeMd5);
	const sameFile = job.fileMd5 === undefined ? md5 === undefined : md5 === job.fileMd5;
	if (typeof offset === "number" && offset > 0 && offset % SECTOR_SIZE === 0 && sameJob && sameFile)
		return offset;
	clearResume(store);
	store.set(OtaKeys.resumeJob, job.jobId);
	if (job.fileMd5 !== undefined)
		store.set(OtaKeys.resumeMd5, job.fileMd5);
	return 0;
}

function clearResume(store: KeyValueStore): void {
	store.delete(OtaKeys.resumeOffset);
	store.delete(OtaKeys.resumeJob);
	store.delete(OtaKeys.resumeMd5);
}

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/**
 * Receives the image bytes of one attempt: holds back the first 288 bytes until the header checks
 * pass, then writes every chunk straight through. The only buffer is that header (288 bytes).
 */
class ImageSink implements DownloadSink {
	#context: UpdateEngineContext;
	#job: OtaJob;
	#offset: number;	// file offset of the next byte to write
	#total: number;
	#header: Uint8Array | undefined;	// bytes before the header was checked (offset 0 only)
	#headerLength = 0;
	#md5: Digest | undefined;
	#lastPercent = 0;
	#checkpoint: number;
	#rejection: string | undefined;
	#failure: string | undefined;
	#done: (result: AttemptResult) => void;

	constructor(context: UpdateEngineContext, job: OtaJob, offset: number, done: (result: AttemptResult) => void) {
		this.#context = context;
		this.#job = job;
		this.#offset = offset;
		this.#total = job.fileSize;
		this.#checkpoint = offset + CHECKPOINT_BYTES;
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

	onEnd(error?: string): void {
		this.#done(this.#conclude(error));
	}

	#restart(offset: number): void {
		this.#offset = offset;
		this.#header = offset === 0 ? new Uint8Array(APP_DESC_END) : undefined;
		this.#headerLength = 0;
		// file_md5 is checked only when the whole file passes through this attempt (a digest's state cannot be resumed).
		this.#md5 = offset === 0 && this.#job.fileMd5 !== undefined ? this.#context.createDigest("MD5") : undefined;
		if (offset > 0)
			this.#context.reporter.report("in-progress", StatusText.downloading, this.#job.jobId);
	}

	onStart(start: number, total: number): string | undefined {
		const {partition, log} = this.#context;
		if (start !== this.#offset) {
			if (start !== 0)
				return `server sent bytes from ${start}, expected ${this.#offset}`;
			log.info("The server ignored the Range request; downloading from the start");
			try {
				partition.abort();
				this.#restart(partition.begin(0));
			}
			catch (error) {
				return `OTA Begin failed: ${messageOf(error)}`;
			}
		}
		if (total > 0) {
			if (this.#job.fileSize > 0 && total !== this.#job.fileSize)
				return `image is ${total} bytes, the job says ${this.#job.fileSize}`;
			this.#total = total;
		}
		if (this.#total > partition.capacity) {
			this.#rejection = `Image too large for the OTA partition (${this.#total} > ${partition.capacity} bytes)`;
			return this.#rejection;
		}
		return undefined;
	}

	onData(chunk: Uint8Array): string | undefined {
		try {
			if (this.#header !== undefined) {
				const take = Math.min(chunk.length, this.#header.length - this.#headerLength);
				this.#header.set(chunk.subarray(0, take), this.#headerLength);
				this.#headerLength += take;
				if (this.#headerLength < this.#header.length)
					return undefined;
				const header = this.#header;
				this.#header = undefined;
				this.#rejection = this.#judge(header);
				if (this.#rejection)
					return this.#rejection;
				this.#context.reporter.report("in-progress", StatusText.downloading, this.#job.jobId);
				this.#write(header);
				chunk = chunk.subarray(take);
				if (chunk.length === 0)
					return undefined;
			}
			this.#write(chunk);
			return undefined;
		}
		catch (error) {
			this.#failure = `OTA failed: ${messageOf(error)}`;
			return this.#failure;
		}
	}

	#judge(header: Uint8Array): string | undefined {
		const {running, boot, options, log} = this.#context;
		let candidate: AppImageInfo;
		try {
			candidate = parseImageHeader(header);
		}
		catch (error) {
			return `Invalid firmware image: ${messageOf(error)}`;
		}
		const verdict = checkUpgrade(candidate, running, boot.minSecureVersion(), options);
		log.info(`New image: ${candidate.projectName} ${candidate.version} (secure version ${candidate.secureVersion}, chip ${candidate.chipId})${verdict ? ": " + verdict : ""}`);
		return verdict;
	}

	#write(bytes: Uint8Array): void {
		const {partition, store, options, reporter, log} = this.#context;
		partition.write(bytes);
		this.#md5?.write(bytes);
		this.#offset += bytes.length;
		if (this.#offset >= this.#checkpoint) {
			this.#checkpoint = this.#offset + CHECKPOINT_BYTES;
			store.set(OtaKeys.resumeOffset, this.#offset - (this.#offset % SECTOR_SIZE));
		}
		if (this.#total > 0) {
			const percent = Math.floor((this.#offset * 100) / this.#total);
			const last = this.#lastPercent;
			if (percent <= last)
				return;
			this.#lastPercent = percent;
			// Report each multiple of the interval crossed (a chunk may jump over one), never 0 % or 100 %.
			const step = options.progressIntervalPercent;
			if (step > 0 && percent < 100 && Math.floor(percent / step) > Math.floor(last / step))
				reporter.report("in-progress", StatusText.downloaded(percent - (percent % step)), this.#job.jobId);
			else if (Math.floor(percent / 10) > Math.floor(last / 10))	// the console's progress line when no report says it
				log.info(`OTA download ${percent}% (${this.#offset} of ${this.#total} bytes)`);
		}
	}

	/** The attempt's result once the transfer ended (`error` from the download). */
	#conclude(error: string | undefined): AttemptResult {
		const {partition, store, reporter} = this.#context;
		if (this.#rejection !== undefined) {
			partition.abort();
			clearResume(store);
			return {ok: false, rejected: true, reason: this.#rejection};
		}
		if (error !== undefined || this.#failure !== undefined) {
			const written = partition.written;
			partition.abort();
			if (written >= SECTOR_SIZE)
				store.set(OtaKeys.resumeOffset, written - (written % SECTOR_SIZE));
			return {ok: false, rejected: false, reason: this.#failure ?? error ?? "OTA failed"};
		}
		if (this.#header !== undefined) {
			partition.abort();
			clearResume(store);
			return {ok: false, rejected: true, reason: `Invalid firmware image: only ${this.#headerLength} bytes`};
		}
		if (this.#total > 0 && this.#offset !== this.#total) {
			partition.abort();
			return {ok: false, rejected: false, reason: `${StatusText.incompleteData} (${this.#offset} of ${this.#total} bytes)`};
		}
		if (this.#md5) {
			const md5 = toHex(this.#md5.close());
			if (md5 !== this.#job.fileMd5) {
				partition.abort();
				clearResume(store);
				return {ok: false, rejected: false, reason: `MD5 mismatch (got ${md5})`};
			}
		}
		reporter.report("in-progress", StatusText.downloadComplete, this.#job.jobId);
		try {
			partition.end();
		}
		catch (error) {
			partition.abort();
			clearResume(store);
			const message = messageOf(error);
			return {ok: false, rejected: false, reason: message.startsWith(StatusText.imageValidationFailed) ? message : `OTA finish failed: ${message}`};
		}
		clearResume(store);
		return {ok: true};
	}
}
