/*
 * Sends otastatus reports and remembers the last one (for `ota status`). A report without a job id
 * in RAM uses the stored job id once and erases it, as the reference does for the reports made
 * after a reboot; with neither, nothing is sent. A final report that could not be published is
 * sent again after the next reconnect (the reference only logs it).
 */
import type {Log, Timers} from "../rainmaker/ports";
import {RULE_OTA_STATUS, SUFFIX_OTA_STATUS} from "../rainmaker/topics";
import type {Publisher} from "./fetcher";
import type {OtaJournal} from "./journal";
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
	#journal: OtaJournal;
	#listeners: ((report: StatusReport) => void)[] = [];
	#unsent: StatusReport | undefined;
	last: StatusReport | undefined;

	constructor(publisher: Publisher, timers: Timers, log: Log, journal: OtaJournal) {
		this.#publisher = publisher;
		this.#timers = timers;
		this.#log = log;
		this.#journal = journal;
	}

	onReport(listener: (report: StatusReport) => void): void {
		this.#listeners.push(listener);
	}

	/** Reports `status` for `jobId`, or for the stored job id when `jobId` is undefined. */
	report(status: OtaStatus, info: string, jobId?: string): void {
		if (jobId === undefined) {
			jobId = this.#journal.takeJobId();
			if (jobId === undefined) {
				this.#log.warn(`Not reporting "${status}: ${info}", since there is no Job ID available`);
				return;
			}
		}
		const report: StatusReport = {jobId, status, info, ts: Math.floor(this.#timers.epoch())};
		this.last = report;
		this.#log.info(`OTA status ${status}: ${info} (job ${jobId})`);
		this.#send(report);
		for (const listener of this.#listeners) listener(report);
	}

	/** After a reconnect: sends again the final report (success, rejected) whose publish failed. */
	resend(): void {
		const report = this.#unsent;
		this.#unsent = undefined;
		if (report) {
			this.#log.info(`Sending otastatus "${report.status}" of job ${report.jobId} again`);
			this.#send(report);
		}
	}

	#send(report: StatusReport): void {
		this.#publisher.publish(
			SUFFIX_OTA_STATUS,
			RULE_OTA_STATUS,
			statusPayload(report.jobId, report.status, report.info, report.ts),
			error => {
				if (!error) return;
				this.#log.warn(`otastatus "${report.status}" not delivered: ${error.message}`);
				// A lost progress report is superseded by the next one; a final one would leave the job open for ever.
				if (report.status === "success" || report.status === "rejected") this.#unsent = report;
			},
		);
	}
}
