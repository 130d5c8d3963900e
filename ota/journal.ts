/*
 * The OTA journal: the only code that reads or writes the OTA state in the key-value store
 * (namespace "rmaker_ota", docs/protocol.md §5.15; keys of at most 15 characters, the NVS limit).
 * Its write failures are handled here, once: a write that must hold for the update to be safe
 * (job id, resume key, checkpoint, "update pending") throws an OtaFailure `failed` "Cannot save
 * the OTA state: ..." that the engine reports; erasing during clean-up never throws (a key left
 * behind is logged and overwritten or ignored later). See docs/ota-lifecycle.md "Journal".
 *
 * Types. The keys esp-rainmaker's C firmware also uses are written in its NVS types and read in
 * its types and the project's earlier ones (docs/protocol.md §5.15): `rmaker_ota_id` a blob (the
 * job id without NUL; a str is read too), `ota_update` a blob of one byte 1 (any entry counts),
 * `ota_written` a u16 in KiB (an i32 in bytes is read too), `ota_file_md5` a str. So the first boot
 * after an update from the C firmware reports `success` for the job id that firmware stored, and an
 * update from this firmware to the C one is reported by it. The store returns every entry with its
 * type and never throws for a type; what a foreign type means is decided here only: an entry of a
 * type the key does not take reads as absent (as nvs_get_* answers ESP_ERR_NVS_TYPE_MISMATCH) and
 * is logged once.
 */
import type {KeyValueStore, Log, StoredValue} from "../rainmaker/ports";
import {utf8Bytes, utf8Text} from "../rainmaker/utf8";
import {errorText, failed, OtaFailure} from "./outcome";

export const OtaKeys = Object.freeze({
	/** Job id of the approved job being installed; reported against after the reboot, then erased (reference key, blob). */
	jobId: "rmaker_ota_id",
	/** Set before rebooting into a new image; its presence at boot tells "new image" from "back on the old one" (reference key, blob 01). */
	updatePending: "ota_update",
	/** Version of the image being installed, so a rollback can name the version that failed. */
	newVersion: "ota_new_ver",
	/** Version that was rolled back last: never offered again on the node's own checks (loop breaker). */
	rolledBackVersion: "ota_rb_ver",
	/** Resume point: KiB of the image already in the inactive slot (sector-aligned, never past file_size; reference key, u16 KiB). */
	resumeOffset: "ota_written",
	/** Resume key: the job whose bytes those are. */
	resumeJob: "ota_res_job",
	/** Job id of a rollback that esp-rainmaker's C firmware built with ROLLBACK_REPORT_FAILED made (reference key, str; read only). */
	failJobId: "ota_fail_jid",
	/** Its reason, "MQTT did not connect within 90 seconds" (reference key, str; read only). */
	failReason: "ota_fail_rsn",
	/** Resume key: that job's file_md5, when the cloud sent one (reference key, str). */
	resumeMd5: "ota_file_md5",
} as const);

/** What the journal needs to know of a job to key a resume. */
export interface ResumeKey {
	readonly jobId: string;
	readonly fileSize: number;
	readonly fileMd5?: string;
}

/** The unit of the reference's `ota_written` (u16 KiB). */
const RESUME_UNIT = 1024;
const MAX_RESUME_KIB = 0xffff;
const UPDATE_FLAG = Object.freeze({type: "blob", value: Uint8Array.of(1)} as const);

export class OtaJournal {
	#store: KeyValueStore;
	#log: Log;
	#mismatches = new Set<string>();

	constructor(store: KeyValueStore, log: Log) {
		this.#store = store;
		this.#log = log;
	}

	/** The job id saved for the reports after a reboot, if any (a blob as the reference writes it, or a str). */
	get jobId(): string | undefined {
		return this.#string(OtaKeys.jobId, true);
	}

	/** Reads and erases the saved job id (the reference's post-reboot report rule, docs/protocol.md §5.15). */
	takeJobId(): string | undefined {
		const jobId = this.jobId;
		if (jobId !== undefined) this.#erase(OtaKeys.jobId);
		return jobId;
	}

	/** Before the first byte of an approved job: throws OtaFailure when the store cannot hold it. */
	beginInstall(jobId: string): void {
		this.#write(OtaKeys.jobId, {type: "blob", value: utf8Bytes(jobId)});
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
		const offset = this.#resumeOffset();
		const sameJob = this.#string(OtaKeys.resumeJob) === job.jobId;
		const md5 = this.#string(OtaKeys.resumeMd5);
		const sameFile = job.fileMd5 === undefined ? md5 === undefined : md5 === job.fileMd5;
		const inside = typeof offset === "number" && (job.fileSize === 0 || offset < job.fileSize);
		if (typeof offset === "number" && offset > 0 && offset % sectorSize === 0 && inside && sameJob && sameFile)
			return offset;
		this.clearResume();
		this.#write(OtaKeys.resumeJob, {type: "str", value: job.jobId});
		if (job.fileMd5 !== undefined) this.#write(OtaKeys.resumeMd5, {type: "str", value: job.fileMd5});
		return 0;
	}

	/** Saves a resume point (already sector-aligned and within the image), in KiB as the reference's u16; one beyond 64 MiB is not saved. */
	checkpoint(offset: number): void {
		const kib = Math.floor(offset / RESUME_UNIT);
		if (kib > 0 && kib <= MAX_RESUME_KIB) this.#write(OtaKeys.resumeOffset, {type: "u16", value: kib});
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
		this.#write(OtaKeys.updatePending, UPDATE_FLAG);
		this.#write(OtaKeys.newVersion, {type: "str", value: version});
	}

	/** Set when the last install rebooted into a new image that has not been confirmed yet. */
	get updatePending(): boolean {
		return this.#read(OtaKeys.updatePending) !== undefined;
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

	/**
	 * Reads and erases the failure a C firmware stored before rolling itself back with
	 * ROLLBACK_REPORT_FAILED (it erases rmaker_ota_id then): reported `failed` with that reason, as
	 * the reference's old image does (docs/protocol.md §5.15).
	 */
	takeRollbackFailure(): {jobId: string; reason: string} | undefined {
		const jobId = this.#string(OtaKeys.failJobId, true);
		if (jobId === undefined) return undefined;
		const reason = this.#string(OtaKeys.failReason, true) ?? "Firmware verification failed";
		this.#erase(OtaKeys.failJobId);
		this.#erase(OtaKeys.failReason);
		this.#erase(OtaKeys.jobId);
		return {jobId, reason};
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
			this.#store.set(OtaKeys.rolledBackVersion, {type: "str", value: version});
		} catch (error) {
			this.#log.warn(`Cannot save the rolled-back version ${version}: ${errorText(error)}`);
		}
	}

	/** A str (or, where the reference writes one, a blob of UTF-8) value; another type reads as absent. */
	#string(key: string, blob = false): string | undefined {
		const entry = this.#read(key);
		if (entry?.type === "str") return entry.value.length > 0 ? entry.value : undefined;
		if (entry?.type === "blob" && blob) {
			const text = utf8Text(entry.value);
			return text.length > 0 ? text : undefined;
		}
		if (entry) this.#mismatch(key, entry);
		return undefined;
	}

	/** The resume offset in bytes: the reference's u16 KiB, or the i32 bytes of earlier versions of this firmware. */
	#resumeOffset(): number | undefined {
		const entry = this.#read(OtaKeys.resumeOffset);
		if (entry?.type === "u16") return entry.value * RESUME_UNIT;
		if (entry?.type === "i32") return entry.value;
		if (entry) this.#mismatch(OtaKeys.resumeOffset, entry);
		return undefined;
	}

	/** The entry, or undefined when the store cannot be read (logged: the state reads as absent). */
	#read(key: string): StoredValue | undefined {
		try {
			return this.#store.get(key);
		} catch (error) {
			this.#log.warn(`Cannot read the OTA state key ${key}: ${errorText(error)}`);
			return undefined;
		}
	}

	#mismatch(key: string, entry: StoredValue): void {
		if (this.#mismatches.has(key)) return;
		this.#mismatches.add(key);
		this.#log.warn(`OTA state key ${key} holds an NVS ${entry.type}, not a type it takes: read as absent`);
	}

	#write(key: string, value: StoredValue): void {
		try {
			this.#store.set(key, value);
		} catch (error) {
			throw new OtaFailure(failed(`Cannot save the OTA state (${key}): ${errorText(error)}`));
		}
	}

	#erase(key: string): void {
		try {
			this.#store.delete(key);
		} catch (error) {
			this.#log.warn(`Cannot erase the OTA state key ${key}: ${errorText(error)}`);
		}
	}
}
