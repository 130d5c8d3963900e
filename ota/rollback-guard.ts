/*
 * Confirm or roll back a freshly installed image (docs/protocol.md §5.11). On the first boot of a
 * new image (pending-verify) the image is marked valid on its first MQTT connection and the job is
 * reported `success`; without a connection within `rollbackWaitSeconds` the image is marked
 * invalid and the bootloader goes back to the old one. The old image, booted again with the
 * journal's "update pending" flag still set, tells two cases apart by the update slot's otadata
 * state: marked invalid/aborted = a rollback (`rejected` "Firmware rolled back", the version is
 * remembered and not offered again on the node's own checks); no entry = the switch was cut short
 * and the new image never ran (`failed`, an interrupted install; the version stays eligible).
 * The guard carries out these effects; the lifecycle controller (approval.ts) owns the state.
 */
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import type {OtaJournal} from "./journal";
import {errorText} from "./outcome";
import type {BootControl} from "./ports";
import type {StatusReporter} from "./reporter";
import {StatusText} from "./status";

export interface RollbackGuardContext {
	readonly boot: BootControl;
	readonly journal: OtaJournal;
	readonly timers: Timers;
	readonly log: Log;
	readonly reporter: StatusReporter;
	readonly rollbackWaitSeconds: number;
}

/** What the boot found about the last install, reported once the node has started. */
export type BootFinding = "rolled-back" | "interrupted" | undefined;

export class RollbackGuard {
	#context: RollbackGuardContext;
	#timer: TimerHandle | undefined;
	#firstBoot: boolean;
	#finding: BootFinding;
	#findingVersion = "";

	constructor(context: RollbackGuardContext) {
		this.#context = context;
		const {boot, journal, log} = context;
		this.#firstBoot = boot.runningState() === "pending-verify";
		if (this.#firstBoot || !journal.updatePending)
			return;
		const version = journal.pendingVersion;
		const slot = boot.updateSlotState?.();
		this.#finding = slot === undefined || slot === "invalid" || slot === "aborted" ? "rolled-back" : "interrupted";
		this.#findingVersion = version;
		journal.clearUpdatePending();
		if (this.#finding === "rolled-back") {
			journal.rolledBackVersion = version;
			log.warn(`Booted the previous firmware again: version ${version || "(unknown)"} was rolled back`);
		}
		else
			log.warn(`Booted the previous firmware again: the switch to ${version || "the new firmware"} was interrupted before it ever ran (update slot: ${slot})`);
	}

	/** The running image is new and not confirmed yet (esp_ota_begin would refuse an update). */
	get firstBoot(): boolean {
		return this.#firstBoot;
	}

	get finding(): BootFinding {
		return this.#finding;
	}

	/** Version whose install was rolled back last, if any. */
	get rolledBackVersion(): string | undefined {
		return this.#context.journal.rolledBackVersion;
	}

	/** On the first boot of a new image: rolls back unless confirmed within rollbackWaitSeconds. */
	armRollback(): void {
		const {timers, log, rollbackWaitSeconds} = this.#context;
		log.info(`First boot after an OTA: the image is confirmed on the first MQTT connection, or rolled back after ${rollbackWaitSeconds} s`);
		this.#timer = timers.set(() => this.#rollback(), rollbackWaitSeconds * 1000);
	}

	/** Marks the new image valid and reports `success`. Returns false when marking failed (it stays pending). */
	confirm(): boolean {
		const {boot, journal, timers, log, reporter} = this.#context;
		try {
			boot.markValid();
		}
		catch (error) {
			log.error(`Could not mark the image valid: ${errorText(error)}`);
			return false;
		}
		this.#firstBoot = false;
		timers.clear(this.#timer);
		this.#timer = undefined;
		journal.clearUpdatePending();
		log.info("New firmware confirmed: marked valid");
		reporter.report("success", StatusText.verified);
		return true;
	}

	/** After the node has started: reports what the boot found (once). */
	reportBootFinding(): void {
		const finding = this.#finding;
		this.#finding = undefined;
		if (finding === "rolled-back")
			this.#context.reporter.report("rejected", StatusText.rolledBack);
		else if (finding === "interrupted")
			this.#context.reporter.report("failed", StatusText.interrupted(this.#findingVersion));
	}

	stop(): void {
		this.#context.timers.clear(this.#timer);
		this.#timer = undefined;
	}

	#rollback(): void {
		this.#timer = undefined;
		const {boot, log, rollbackWaitSeconds} = this.#context;
		log.error(`Could not verify firmware even after ${rollbackWaitSeconds} seconds since boot-up. Rolling back.`);
		try {
			boot.rollback();
		}
		catch (error) {	// no valid image to go back to (esp_ota_mark_app_invalid_rollback_and_reboot fails): keep running this one
			log.error(`Rollback impossible: ${errorText(error)}`);
		}
	}
}
