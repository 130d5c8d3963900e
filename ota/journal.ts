/*
 * The OTA journal: the only code that reads or writes the OTA state in the key-value store
 * (namespace "rmaker_ota", docs/protocol.md §5.15; keys of at most 15 characters, the NVS limit).
 * Its write failures are handled here, once: a write that must hold for the update to be safe
 * (job id, resume key, checkpoint, "update pending") throws an OtaFailure `failed` "Cannot save
 * the OTA state: ..." that the engine reports; erasing during clean-up never throws (a key left
 * behind is logged and overwritten or ignored later). See docs/ota-lifecycle.md "Journal".
 */
import type {KeyValueStore, Log} from "../rainmaker/ports";
import {errorText, failed, OtaFailure} from "./outcome";

export const OtaKeys = Object.freeze({
	/** Job id of the approved job being installed; reported against after the reboot, then erased (reference key). */
	jobId: "rmaker_ota_id",
	/** Set before rebooting into a new image; its presence at boot tells "new image" from "back on the old one" (reference key). */
	updatePending: "ota_update",
	/** Version of the image being installed, so a rollback can name the version that failed. */
	newVersion: "ota_new_ver",
	/** Version that was rolled back last: never offered again on the node's own checks (loop breaker). */
	rolledBackVersion: "ota_rb_ver",
	/** Resume point: bytes of the image already in the inactive slot (sector-aligned, never past file_size). */
	resumeOffset: "ota_written",
	/** Resume key: the job whose bytes those are. */
	resumeJob: "ota_res_job",
	/** Resume key: that job's file_md5, when the cloud sent one (reference key). */
	resumeMd5: "ota_file_md5",
} as const);

/** What the journal needs to know of a job to key a resume. */
export interface ResumeKey {
	readonly jobId: string;
	readonly fileSize: number;
	readonly fileMd5?: string;
}

export class OtaJournal {
	#store: KeyValueStore;
	#log: Log;

	constructor(store: KeyValueStore, log: Log) {
		this.#store = store;
		this.#log = log;
	}

	/** The job id saved for the reports after a reboot, if any. */
	get jobId(): string | undefined {
		return this.#string(OtaKeys.jobId);
	}

	/** Reads and erases the saved job id (the reference's post-reboot report rule, docs/protocol.md §5.15). */
	takeJobId(): string | undefined {
		const jobId = this.jobId;
		if (jobId !== undefined)
			this.#erase(OtaKeys.jobId);
		return jobId;
	}

	/** Before the first byte of an approved job: throws OtaFailure when the store cannot hold it. */
	beginInstall(jobId: string): void {
		this.#write(OtaKeys.jobId, jobId);
	}

	/** The job ended without a reboot. */
	endInstall(): void {
		this.#erase(OtaKeys.jobId);
	}

	/**
	 * Where an earlier, interrupted attempt of the same job (same file_md5) left off; 0 otherwise,
	 * and then the resume key is (re)written for this job. A checkpoint that is not sector-aligned
	 * or lies past file_size is dropped.
	 */
	resumePoint(job: ResumeKey, sectorSize: number): number {
		const offset = this.#store.get(OtaKeys.resumeOffset);
		const sameJob = this.#string(OtaKeys.resumeJob) === job.jobId;
		const md5 = this.#string(OtaKeys.resumeMd5);
		const sameFile = job.fileMd5 === undefined ? md5 === undefined : md5 === job.fileMd5;
		const inside = typeof offset === "number" && (job.fileSize === 0 || offset < job.fileSize);
		if (typeof offset === "number" && offset > 0 && offset % sectorSize === 0 && inside && sameJob && sameFile)
			return offset;
		this.clearResume();
		this.#write(OtaKeys.resumeJob, job.jobId);
		if (job.fileMd5 !== undefined)
			this.#write(OtaKeys.resumeMd5, job.fileMd5);
		return 0;
	}

	/** Saves a resume point (already sector-aligned and within the image). */
	checkpoint(offset: number): void {
		if (offset > 0)
			this.#write(OtaKeys.resumeOffset, offset);
	}

	/** Only the checkpoint goes (a 416, or bytes that cannot be trusted); the resume key stays for this job. */
	dropCheckpoint(): void {
		this.#erase(OtaKeys.resumeOffset);
	}

	clearResume(): void {
		this.#erase(OtaKeys.resumeOffset);
		this.#erase(OtaKeys.resumeJob);
		this.#erase(OtaKeys.resumeMd5);
	}

	/** The image is in place and selected: remember that a new image is about to boot (throws OtaFailure). */
	markRebooting(version: string): void {
		this.#write(OtaKeys.updatePending, 1);
		this.#write(OtaKeys.newVersion, version);
	}

	/** Set when the last install rebooted into a new image that has not been confirmed yet. */
	get updatePending(): boolean {
		return this.#store.get(OtaKeys.updatePending) !== undefined;
	}

	/** The version that install was for ("" when unknown). */
	get pendingVersion(): string {
		return this.#string(OtaKeys.newVersion) ?? "";
	}

	/** The new image was confirmed, or the node is back on the old one: the pending flag goes. */
	clearUpdatePending(): void {
		this.#erase(OtaKeys.updatePending);
		this.#erase(OtaKeys.newVersion);
	}

	get rolledBackVersion(): string | undefined {
		return this.#string(OtaKeys.rolledBackVersion);
	}

	/** Remembers a rolled-back version (best effort: losing it only re-enables an offer). */
	set rolledBackVersion(version: string | undefined) {
		if (version === undefined || version.length === 0) {
			this.#erase(OtaKeys.rolledBackVersion);
			return;
		}
		try {
			this.#store.set(OtaKeys.rolledBackVersion, version);
		}
		catch (error) {
			this.#log.warn(`Cannot save the rolled-back version ${version}: ${errorText(error)}`);
		}
	}

	#string(key: string): string | undefined {
		const value = this.#store.get(key);
		return typeof value === "string" && value.length > 0 ? value : undefined;
	}

	#write(key: string, value: string | number): void {
		try {
			this.#store.set(key, value);
		}
		catch (error) {
			throw new OtaFailure(failed(`Cannot save the OTA state (${key}): ${errorText(error)}`));
		}
	}

	#erase(key: string): void {
		try {
			this.#store.delete(key);
		}
		catch (error) {
			this.#log.warn(`Cannot erase the OTA state key ${key}: ${errorText(error)}`);
		}
	}
}
