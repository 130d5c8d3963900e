/*
 * User-approval OTA (the seed's pattern, with approval bound to a job). A check sends otafetch; a
 * job the cloud serves is offered, not installed: `Info` shows it and the job is reported `delayed`
 * "Waiting for Approval". Approval (`Operation` = start, or `ota start`) is single-use and bound to
 * the job shown: the node fetches again, so the cloud serves a fresh URL, and only an otaurl with
 * the approved job id starts the update. A different job is offered instead and needs its own
 * approval, so approving one offer can never install another, unseen one.
 */
import type {JsonValue, ParamWrite} from "../rainmaker/model";
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import type {OtaFetcher} from "./fetcher";
import {INFO_PARAM, OPERATION_PARAM, OTA_SERVICE_NAME, offerInfo} from "./ota-service";
import type {OtaOptions} from "./options";
import {type OtaJob, parseOtaUrl} from "./otaurl";
import type {StatusReporter} from "./reporter";
import type {RollbackGuard} from "./rollback-guard";
import {StatusText} from "./status";
import type {UpdateOutcome, UpdateProgress} from "./update-engine";

/** An approval not answered by the cloud within this time lapses (the cloud no longer serves the job). */
export const APPROVAL_VALIDITY_SECONDS = 600;

/** Where the OTA service's params are reported. */
export interface ParamReporter {
	updateParams(deviceName: string, values: {[param: string]: JsonValue}): void;
}

/** Installs an approved job (the update engine; a recording double in tests). */
export interface Installer {
	/** True from run() until the outcome, and on to the reboot when it succeeded. */
	readonly busy: boolean;
	readonly progress: UpdateProgress | undefined;
	run(job: OtaJob, done: (outcome: UpdateOutcome) => void): void;
}

export interface ApprovalContext {
	readonly params: ParamReporter;
	readonly fetcher: OtaFetcher;
	readonly engine: Installer;
	readonly guard: RollbackGuard;
	readonly reporter: StatusReporter;
	readonly timers: Timers;
	readonly log: Log;
	readonly options: OtaOptions;
}

export interface CommandResult {
	readonly ok: boolean;
	readonly message: string;
}

export class UserApprovalOta {
	#context: ApprovalContext;
	#offer: OtaJob | undefined;
	#approved: string | undefined;
	#approvalExpiry: TimerHandle | undefined;
	#userAsked = false;	// the next served job answers a person's check/start (see the loop breaker in onOtaUrl)
	#lastOutcome: UpdateOutcome | undefined;

	constructor(context: ApprovalContext) {
		this.#context = context;
	}

	/** The job shown in Info, if any. */
	get offer(): OtaJob | undefined {
		return this.#offer;
	}

	/** The approved job id while the node waits for the cloud to serve it again. */
	get approvedJobId(): string | undefined {
		return this.#approved;
	}

	/** An update runs, or the new image is not confirmed yet: no check, no start, otaurl dropped. */
	get busy(): boolean {
		return this.#context.engine.busy || this.#context.guard.pendingVerify;
	}

	/** The node's own check (at start-up and every autofetchPeriodHours). */
	autoCheck(delaySeconds: number): void {
		if (this.busy)
			return;
		this.#context.fetcher.fetchWithDelay(delaySeconds);
	}

	check(): CommandResult {
		const refusal = this.#refusal("check");
		if (refusal)
			return refusal;
		this.#userAsked = true;
		this.#context.fetcher.fetchWithDelay(this.#context.options.requestFetchDelaySeconds);
		return {ok: true, message: "Checking for OTA updates."};
	}

	start(): CommandResult {
		const refusal = this.#refusal("start");
		if (refusal)
			return refusal;
		const offer = this.#offer;
		if (!offer)
			return {ok: false, message: "No OTA update is offered, nothing to approve. Use 'ota check' first."};
		const what = `job ${offer.jobId}${offer.fwVersion !== undefined ? ` (version ${offer.fwVersion})` : ""}`;
		if (this.#approved === offer.jobId)
			return {ok: true, message: `OTA ${what} is approved already; waiting for the cloud to serve it.`};
		const {timers, fetcher, options, log} = this.#context;
		this.#approved = offer.jobId;
		timers.clear(this.#approvalExpiry);
		this.#approvalExpiry = timers.set(() => {
			log.warn(`Approval of job ${this.#approved} lapsed: the cloud did not serve it within ${APPROVAL_VALIDITY_SECONDS} s`);
			this.#approved = this.#approvalExpiry = undefined;
		}, APPROVAL_VALIDITY_SECONDS * 1000);
		this.#userAsked = true;
		fetcher.fetchWithDelay(options.requestFetchDelaySeconds);
		return {ok: true, message: `OTA ${what} approved; fetching it.`};
	}

	/** The OTA service's write callback: `Operation` carries a command. */
	onOperationWrite(writes: ReadonlyArray<ParamWrite>): boolean {
		for (const write of writes) {
			if (write.param.name !== OPERATION_PARAM)
				continue;
			const result = write.value === "start" ? this.start() : this.check();
			if (result.ok)
				this.#context.log.info(`Operation=${String(write.value)}: ${result.message}`);
			else
				this.#context.log.warn(`Operation=${String(write.value)} refused: ${result.message}`);
		}
		return true;
	}

	/** A message on node/<id>/otaurl. */
	onOtaUrl(payload: string): void {
		const {log, reporter} = this.#context;
		if (this.busy) {
			log.warn("OTA already in progress. Please try later.");
			return;
		}
		const result = parseOtaUrl(payload);
		if ("error" in result) {
			if (result.jobId !== undefined)
				reporter.report("failed", result.error, result.jobId);
			else	// The reference falls back to an earlier job's stored id here; that would fail a job this message is not about.
				log.warn(`otaurl refused (${result.error}); not reported: the message names no job`);
			return;
		}
		for (const warning of result.warnings)
			log.warn(`otaurl: ${warning}`);
		const job = result.job;
		let userAsked = this.#userAsked;
		this.#userAsked = false;
		if (this.#approved !== undefined) {
			const approved = this.#approved;
			this.#approved = undefined;
			this.#context.timers.clear(this.#approvalExpiry);
			this.#approvalExpiry = undefined;
			if (job.jobId === approved) {
				this.#install(job);
				return;
			}
			log.warn(`Job ${approved} was approved, but the cloud now serves job ${job.jobId}: offering it for approval instead`);
			userAsked = true;
		}
		const rolledBack = this.#context.guard.rolledBackVersion;
		if (!userAsked && rolledBack !== undefined && job.fwVersion === rolledBack) {
			log.warn(`Not offering version ${rolledBack} (job ${job.jobId}) on the node's own check: it was rolled back. 'ota check' shows it.`);
			return;
		}
		this.#present(job);
	}

	/** Lines for `ota status`. */
	statusLines(): string[] {
		const {engine, guard, reporter} = this.#context;
		const lines: string[] = [];
		const offer = this.#offer;
		lines.push(offer ? `offered: job ${offer.jobId}, version ${offer.fwVersion ?? "?"}${offer.fileSize ? `, ${offer.fileSize} bytes` : ""}` : "offered: nothing");
		if (this.#approved !== undefined)
			lines.push(`approved: job ${this.#approved}, waiting for the cloud to serve it`);
		const progress = engine.progress;
		if (progress) {
			const percent = progress.total > 0 ? ` (${Math.floor((progress.received * 100) / progress.total)}%)` : "";
			lines.push(`running: job ${progress.jobId}, attempt ${progress.attempt}, ${progress.received} of ${progress.total || "?"} bytes${percent}`);
		}
		else if (engine.busy)
			lines.push("running: installed, rebooting into the new firmware");
		else if (guard.pendingVerify)
			lines.push("running: new firmware waiting for its first MQTT connection to be confirmed");
		else
			lines.push("running: nothing");
		const last = reporter.last;
		lines.push(last ? `last status: ${last.status} "${last.info}" (job ${last.jobId})` : "last status: none");
		if (this.#lastOutcome)
			lines.push(`last update: ${this.#lastOutcome}`);
		if (guard.rolledBackVersion !== undefined)
			lines.push(`rolled back: version ${guard.rolledBackVersion} (not offered on the node's own checks)`);
		return lines;
	}

	stop(): void {
		this.#context.timers.clear(this.#approvalExpiry);
	}

	#refusal(command: string): CommandResult | undefined {
		if (this.#context.guard.pendingVerify)
			return {ok: false, message: `'${command}' refused: the new firmware is not confirmed yet (it is on its first MQTT connection).`};
		if (this.#context.engine.busy)
			return {ok: false, message: `'${command}' refused: an OTA update is in progress.`};
		return undefined;
	}

	/** Shows the job in Info (unless it is shown already) and reports it as waiting for approval. */
	#present(job: OtaJob): void {
		const shown = this.#offer;
		const same = shown !== undefined && shown.jobId === job.jobId && shown.fwVersion === job.fwVersion && shown.fileSize === job.fileSize;
		this.#offer = job;
		if (!same) {
			this.#context.log.info(`OTA update ${job.fwVersion ?? "?"} available (job ${job.jobId}), waiting for approval`);
			this.#context.params.updateParams(OTA_SERVICE_NAME, {[INFO_PARAM]: offerInfo(job)});
		}
		this.#context.reporter.report("delayed", StatusText.waitingForApproval, job.jobId);
	}

	#install(job: OtaJob): void {
		const {engine, params, fetcher, options, log} = this.#context;
		this.#offer = undefined;
		log.info(`Installing approved OTA job ${job.jobId}`);
		engine.run(job, outcome => {
			this.#lastOutcome = outcome;
			params.updateParams(OTA_SERVICE_NAME, {[INFO_PARAM]: {}});
			if (outcome === "failed")	// as the reference: fetch again later; the job, if served again, needs a new approval
				fetcher.fetchWithDelay(options.retryDelayMinutes * 60);
		});
	}
}
