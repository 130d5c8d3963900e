/*
 * The confirm-or-roll-back clock of a new image (docs/protocol.md §5.11). It starts when the app
 * starts, before Wi-Fi and SNTP, as esp-rainmaker arms its rollback timer in
 * esp_rmaker_ota_enable: an image that never gets an address, never gets the time or never reaches
 * MQTT is marked invalid and the chip reboots into the old image after `rollbackWaitSeconds`. The
 * rollback guard (rollback-guard.ts) adopts the running clock once the firmware has started and
 * stops it when the first MQTT connection confirms the image.
 */
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import {errorText} from "./outcome";
import type {BootControl} from "./ports";

export interface RollbackClockContext {
	readonly boot: BootControl;
	readonly timers: Timers;
	readonly log: Log;
	readonly rollbackWaitSeconds: number;
}

export class RollbackClock {
	readonly #context: RollbackClockContext;
	readonly #startedAt: number;
	#timer: TimerHandle | undefined;

	/** Starts the clock when the running image is pending verification; does nothing otherwise. */
	constructor(context: RollbackClockContext) {
		this.#context = context;
		this.#startedAt = context.timers.now();
		if (context.boot.runningState() !== "pending-verify") return;
		context.log.info(
			`First boot after an OTA: the image is confirmed on the first MQTT connection, or rolled back ${context.rollbackWaitSeconds} s after start-up`,
		);
		this.#timer = context.timers.set(() => this.#expire(), context.rollbackWaitSeconds * 1000);
	}

	/** True while the image waits for its confirmation (the clock runs). */
	get running(): boolean {
		return this.#timer !== undefined;
	}

	/** Seconds left before the rollback (0 when the clock does not run). */
	get remainingSeconds(): number {
		if (!this.running) return 0;
		const elapsed = this.#context.timers.now() - this.#startedAt;
		return Math.max(0, Math.ceil((this.#context.rollbackWaitSeconds * 1000 - elapsed) / 1000));
	}

	/** The image was confirmed (or the node stops): no rollback. */
	stop(): void {
		this.#context.timers.clear(this.#timer);
		this.#timer = undefined;
	}

	#expire(): void {
		this.#timer = undefined;
		const {boot, log, rollbackWaitSeconds} = this.#context;
		log.error(`Could not verify firmware even after ${rollbackWaitSeconds} seconds since boot-up. Rolling back.`);
		try {
			boot.rollback();
		} catch (error) {
			// no valid image to go back to (esp_ota_mark_app_invalid_rollback_and_reboot fails): keep running this one
			log.error(`Rollback impossible: ${errorText(error)}`);
		}
	}
}
