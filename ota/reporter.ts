/*
 * Sends otastatus reports and remembers the last one (for `ota status`). A report without a job id
 * in RAM uses the stored job id once and erases it, as the reference does for the reports made
 * after a reboot; with neither, nothing is sent.
 */
import type {KeyValueStore, Log, Timers} from "../rainmaker/ports";
import {RULE_OTA_STATUS, SUFFIX_OTA_STATUS} from "../rainmaker/topics";
import type {Publisher} from "./fetcher";
import {OtaKeys} from "./keys";
import {type OtaStatus, statusPayload} from "./status";

export interface StatusReport {
	readonly jobId: string;
	readonly status: OtaStatus;
	readonly info: string;
	readonly ts: number;
}

export class StatusReporter {
	#publisher: Publisher;
	#timers: Timers;
	#log: Log;
	#store: KeyValueStore;
	#listeners: ((report: StatusReport) => void)[] = [];
	last: StatusReport | undefined;

	constructor(publisher: Publisher, timers: Timers, log: Log, store: KeyValueStore) {
		this.#publisher = publisher;
		this.#timers = timers;
		this.#log = log;
		this.#store = store;
	}

	onReport(listener: (report: StatusReport) => void): void {
		this.#listeners.push(listener);
	}

	/** Reports `status` for `jobId`, or for the stored job id when `jobId` is undefined. */
	report(status: OtaStatus, info: string, jobId?: string): void {
		if (jobId === undefined) {
			const stored = this.#store.get(OtaKeys.jobId);
			if (typeof stored !== "string" || stored.length === 0) {
				this.#log.warn(`Not reporting "${status}: ${info}", since there is no Job ID available`);
				return;
			}
			jobId = stored;
			this.#store.delete(OtaKeys.jobId);
		}
		const report: StatusReport = {jobId, status, info, ts: Math.floor(this.#timers.epoch())};
		this.last = report;
		this.#log.info(`OTA status ${status}: ${info} (job ${jobId})`);
		this.#publisher.publish(SUFFIX_OTA_STATUS, RULE_OTA_STATUS, statusPayload(jobId, status, info, report.ts), error => {
			if (error)
				this.#log.warn(`otastatus "${status}" not delivered: ${error.message}`);
		});
		for (const listener of this.#listeners)
			listener(report);
	}
}
