/*
 * Confirm or roll back a freshly installed image (docs/protocol.md §5.11). On the first boot of a new
 * image (state pending-verify) the image is marked valid on its first MQTT connection and the job
 * is reported `success`; without a connection within `rollbackWaitSeconds` the image is marked
 * invalid and the bootloader goes back to the old one. The old image, booted again with the
 * "update pending" flag still set, knows it was rolled back: it reports `rejected` "Firmware rolled
 * back" and remembers the version, which the node then never offers again on its own.
 */
import type {KeyValueStore, Log, TimerHandle, Timers} from "../rainmaker/ports";
import {OtaKeys} from "./keys";
import type {BootControl} from "./ports";
import type {StatusReporter} from "./reporter";
import {StatusText} from "./status";

export interface RollbackGuardContext {
	readonly boot: BootControl;
	readonly store: KeyValueStore;
	readonly timers: Timers;
	readonly log: Log;
	readonly reporter: StatusReporter;
	readonly rollbackWaitSeconds: number;
}

export class RollbackGuard {
	#context: RollbackGuardContext;
	#timer: TimerHandle | undefined;
	#pending = false;
	#rolledBack = false;

	constructor(context: RollbackGuardContext) {
		this.#context = context;
		const {boot, store, timers, log, rollbackWaitSeconds} = context;
		if (boot.runningState() === "pending-verify") {
			this.#pending = true;
			log.info(`First boot after an OTA: the image is confirmed on the first MQTT connection, or rolled back after ${rollbackWaitSeconds} s`);
			this.#timer = timers.set(() => this.#rollback(), rollbackWaitSeconds * 1000);
		}
		else if (store.get(OtaKeys.updatePending) !== undefined) {
			this.#rolledBack = true;
			const version = store.get(OtaKeys.newVersion);
			store.delete(OtaKeys.updatePending);
			store.delete(OtaKeys.newVersion);
			if (typeof version === "string" && version.length > 0)
				store.set(OtaKeys.rolledBackVersion, version);
			log.warn(`Booted the previous firmware again: version ${typeof version === "string" && version ? version : "(unknown)"} was rolled back`);
		}
	}

	/** True until the new image is confirmed: no update may start meanwhile (esp_ota_begin would refuse). */
	get pendingVerify(): boolean {
		return this.#pending;
	}

	/** Version whose install was rolled back last, if any. */
	get rolledBackVersion(): string | undefined {
		const version = this.#context.store.get(OtaKeys.rolledBackVersion);
		return typeof version === "string" ? version : undefined;
	}

	/** On every MQTT connection: the first one confirms a pending image. Returns true when it did. */
	connected(): boolean {
		if (!this.#pending)
			return false;
		const {boot, store, timers, log, reporter} = this.#context;
		try {
			boot.markValid();
		}
		catch (error) {
			log.error(`Could not mark the image valid: ${error instanceof Error ? error.message : String(error)}`);
			return false;
		}
		this.#pending = false;
		timers.clear(this.#timer);
		this.#timer = undefined;
		store.delete(OtaKeys.updatePending);
		store.delete(OtaKeys.newVersion);
		log.info("New firmware confirmed: marked valid");
		reporter.report("success", StatusText.verified);
		return true;
	}

	/** After the node has started: report a rollback detected at boot (once). */
	reportRollback(): void {
		if (!this.#rolledBack)
			return;
		this.#rolledBack = false;
		this.#context.reporter.report("rejected", StatusText.rolledBack);
	}

	stop(): void {
		this.#context.timers.clear(this.#timer);
		this.#timer = undefined;
	}

	#rollback(): void {
		const {boot, log, rollbackWaitSeconds} = this.#context;
		log.error(`Could not verify firmware even after ${rollbackWaitSeconds} seconds since boot-up. Rolling back.`);
		try {
			boot.rollback();
		}
		catch (error) {	// no valid image to go back to (esp_ota_mark_app_invalid_rollback_and_reboot fails): keep running this one
			log.error(`Rollback impossible: ${error instanceof Error ? error.message : String(error)}`);
		}
	}
}
