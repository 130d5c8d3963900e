/*
 * OTA events for the application, the reference's RMAKER_OTA_EVENT_* set (esp_rmaker_ota.h;
 * docs/product.md): `starting` (before the download; a listener may hold the update there),
 * `in-progress`, `successful`, `failed`, `rejected`, `delayed` (one per otastatus report, with
 * its job id and text, as esp_rmaker_ota_report_status posts them; a rollback is `rejected`
 * "Firmware rolled back") and `reboot-requested` (the new image is selected and autoReboot is
 * off: the application reboots when it chooses). Listeners run synchronously, in the order they
 * were added; one that throws is logged and the others still run.
 */
import type {Log} from "../rainmaker/ports";
import type {StatusReport} from "./reporter";
import type {OtaStatus} from "./status";

export type OtaEventKind =
	"starting" | "in-progress" | "successful" | "failed" | "rejected" | "delayed" | "reboot-requested";

/** An application's hold of an update before its download; `release()` lets it go on (once). */
export interface OtaHold {
	readonly reason: string;
	release(): void;
}

export interface OtaReportEvent {
	readonly kind: Exclude<OtaEventKind, "starting">;
	readonly jobId: string;
	readonly text: string;
}

export interface OtaStartingEvent {
	readonly kind: "starting";
	readonly jobId: string;
	readonly text: string;
	/**
	 * Holds the update before its download, until every hold is released or holdTimeoutSeconds
	 * pass (the job then ends `failed`, naming the reason). Valid only during the listener's call.
	 */
	hold(reason: string): OtaHold;
}

export type OtaAppEvent = OtaReportEvent | OtaStartingEvent;
export type OtaEventListener = (event: OtaAppEvent) => void;

const EVENT_OF_STATUS: {readonly [S in OtaStatus]: OtaReportEvent["kind"]} = Object.freeze({
	"in-progress": "in-progress",
	success: "successful",
	failed: "failed",
	rejected: "rejected",
	delayed: "delayed",
});

export class OtaEvents {
	readonly #log: Log;
	readonly #listeners: OtaEventListener[] = [];

	constructor(log: Log) {
		this.#log = log;
	}

	/** Adds a listener (esp_event_handler_register for RMAKER_OTA_EVENT). */
	on(listener: OtaEventListener): void {
		this.#listeners.push(listener);
	}

	/** The event of an otastatus report (esp_rmaker_ota_status_to_event). */
	reported(report: StatusReport): void {
		this.#emit({kind: EVENT_OF_STATUS[report.status], jobId: report.jobId, text: report.info});
	}

	rebootRequested(jobId: string, text: string): void {
		this.#emit({kind: "reboot-requested", jobId, text});
	}

	/**
	 * The `starting` event; returns the holds its listeners took. `makeHold` builds each hold
	 * (the approval counts them); hold() after the listeners returned throws.
	 */
	starting(jobId: string, text: string, makeHold: (reason: string) => OtaHold): OtaHold[] {
		const holds: OtaHold[] = [];
		let open = true;
		this.#emit({
			kind: "starting",
			jobId,
			text,
			hold(reason: string): OtaHold {
				if (!open) throw new Error("OTA hold(): only during the starting event's listener call");
				const hold = makeHold(String(reason));
				holds.push(hold);
				return hold;
			},
		});
		open = false;
		return holds;
	}

	#emit(event: OtaAppEvent): void {
		for (const listener of this.#listeners) {
			try {
				listener(event);
			} catch (error) {
				this.#log.error(
					`OTA event ${event.kind} listener failed: ${error instanceof Error ? error.message : String(error)}`,
				);
			}
		}
	}
}
