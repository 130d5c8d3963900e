/*
 * Confirm or roll back a freshly installed image (docs/protocol.md §5.11). On the first boot of a
 * new image (pending-verify) the image is marked valid on its first MQTT connection and the job is
 * reported `success`; without a connection within `rollbackWaitSeconds` the image is marked
 * invalid and the bootloader goes back to the old one. The old image, booted again with the
 * journal's "update pending" flag still set, tells two cases apart by the update slot's otadata
 * state: marked invalid/aborted = a rollback (`rejected` "Firmware rolled back", the version is
 * remembered and not offered again on the node's own checks); no entry = the switch was cut short
 * and the new image never ran (`failed`, an interrupted install; the version stays eligible).
 * The guard carries out these effects; the approval (approval.ts) owns the state.
 * The rollback deadline is the rollback clock's (rollback-clock.ts), started when the app starts,
 * before the network: the guard adopts a clock that is already running, or starts one itself.
 */
import type {Log, Timers} from "../rainmaker/ports";
import type {OtaJournal} from "./journal";
import {errorText} from "./outcome";
import {RollbackClock} from "./rollback-clock";
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
	/** The clock started at app start (before the network); without it armRollback starts one. */
	readonly clock?: RollbackClock;
}

/** What the boot found about the last install, reported once the node has started. */
export type BootFinding = "rolled-back" | "interrupted" | undefined;

export class RollbackGuard {
	#context: RollbackGuardContext;
	#clock: RollbackClock | undefined;
	#firstBoot: boolean;
	#finding: BootFinding;
	#findingVersion = "";

	constructor(context: RollbackGuardContext) {
		this.#context = context;
		const {boot, journal, log} = context;
		this.#firstBoot = boot.runningState() === "pending-verify";
		if (this.#firstBoot || !journal.updatePending) return;
		const version = journal.pendingVersion;
		const slot = boot.updateSlotState?.();
		this.#finding = slot === undefined || slot === "invalid" || slot === "aborted" ? "rolled-back" : "interrupted";
		this.#findingVersion = version;
		journal.clearUpdatePending();
		if (this.#finding === "rolled-back") {
			journal.rolledBackVersion = version;
			log.warn(`Booted the previous firmware again: version ${version || "(unknown)"} was rolled back`);
		} else
			log.warn(
				`Booted the previous firmware again: the switch to ${version || "the new firmware"} was interrupted before it ever ran (update slot: ${slot})`,
			);
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

	/** On the first boot of a new image: rolls back unless confirmed within rollbackWaitSeconds of the app's start. */
	armRollback(): void {
		const {clock, log} = this.#context;
		if (clock?.running) {
			this.#clock = clock;
			log.info(
				`Waiting for the first MQTT connection to confirm the image: rollback in ${clock.remainingSeconds} s`,
			);
			return;
		}
		this.#clock = new RollbackClock(this.#context);
	}

	/** Marks the new image valid and reports `success`. Returns false when marking failed (it stays pending). */
	confirm(): boolean {
		const {boot, journal, log, reporter} = this.#context;
		try {
			boot.markValid();
		} catch (error) {
			log.error(`Could not mark the image valid: ${errorText(error)}`);
			return false;
		}
		this.#firstBoot = false;
		this.#clock?.stop();
		this.#clock = undefined;
		journal.clearUpdatePending();
		log.info("New firmware confirmed: marked valid");
		reporter.report("success", StatusText.verified);
		return true;
	}

	/** After the node has started: reports what the boot found (once). */
	reportBootFinding(): void {
		const finding = this.#finding;
		this.#finding = undefined;
		const failure = finding === "rolled-back" ? this.#context.journal.takeRollbackFailure() : undefined;
		if (failure)
			// the new image was a C firmware built with ROLLBACK_REPORT_FAILED
			this.#context.reporter.report("failed", failure.reason, failure.jobId);
		else if (finding === "rolled-back") this.#context.reporter.report("rejected", StatusText.rolledBack);
		else if (finding === "interrupted")
			this.#context.reporter.report("failed", StatusText.interrupted(this.#findingVersion));
	}

	stop(): void {
		this.#clock?.stop();
		this.#clock = undefined;
	}
}
