/*
 * The OTA lifecycle controller with user approval (docs/ota-lifecycle.md). It owns the one
 * lifecycle state (lifecycle.ts) and fires its transitions; the fetcher, the update engine, the
 * rollback guard and the reporter carry out the effects.
 *
 * A check sends otafetch; a job the cloud serves is offered, not installed: `Info` shows it and the
 * job is reported `delayed` "Waiting for Approval". Approval (`Operation` = start, or `ota start`)
 * is single-use and bound to exactly what was shown: job id, version, and size and MD5 when the
 * offer had them. The node fetches again, so the cloud serves a fresh URL, and only an otaurl
 * matching the binding starts the update; anything else (another job, or the same job id naming
 * another version, size or MD5) is offered again and needs its own approval.
 */
import type {JsonValue, ParamWrite} from "../rainmaker/model";
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import type {OtaFetcher} from "./fetcher";
import {OtaLifecycle, type OtaState} from "./lifecycle";
import {INFO_PARAM, OPERATION_PARAM, OTA_SERVICE_NAME, offerInfo} from "./ota-service";
import type {OtaOptions} from "./options";
import {type OtaJob, parseOtaUrl} from "./otaurl";
import type {StatusReporter} from "./reporter";
import type {RollbackGuard} from "./rollback-guard";
import {StatusText} from "./status";
import {type PosixTimezone, parsePosixTimezone} from "./posix-tz";
import {checkTimeMetadata} from "./time-window";
import type {Installer, InstallOutcome} from "./update-engine";

/** An approval not answered by the cloud within this time lapses (the cloud no longer serves the job). */
export const APPROVAL_VALIDITY_SECONDS = 600;

/** Where the OTA service's params are reported. */
export interface ParamReporter {
	updateParams(deviceName: string, values: {[param: string]: JsonValue}): void;
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

/** True when `served` is exactly the job the user approved (`shown`). */
export function sameOffer(shown: OtaJob, served: OtaJob): boolean {
	return (
		served.jobId === shown.jobId &&
		served.fwVersion === shown.fwVersion &&
		(shown.fileSize === 0 || served.fileSize === shown.fileSize) &&
		(shown.fileMd5 === undefined || served.fileMd5 === shown.fileMd5)
	);
}

function describe(job: OtaJob): string {
	return `job ${job.jobId}${job.fwVersion !== undefined ? ` (version ${job.fwVersion})` : ""}`;
}

export class UserApprovalOta {
	#context: ApprovalContext;
	#lifecycle: OtaLifecycle;
	/** The job shown in Info (states offered and approved). */
	#offer: OtaJob | undefined;
	#approvalExpiry: TimerHandle | undefined;
	#userAsked = false; // the next served job answers a person's check/start (see the loop breaker in onOtaUrl)
	#lastOutcome: string | undefined;
	/** timers.now() when Info last stopped showing another offer (replaced by the current one, or cleared). */
	#otherOfferGoneAt = -Infinity;
	/** The node's timezone (the timezone option, checked by resolveOtaOptions): download windows are in its local time. */
	readonly #timezone: PosixTimezone;

	constructor(context: ApprovalContext) {
		this.#context = context;
		this.#timezone = parsePosixTimezone(context.options.timezone);
		this.#lifecycle = new OtaLifecycle(context.guard.firstBoot ? "pending-verify" : "idle");
		this.#lifecycle.onTransition((from, event, to) => context.log.info(`OTA state ${from} -> ${to} (${event})`));
		if (context.guard.firstBoot) context.guard.armRollback();
	}

	get state(): OtaState {
		return this.#lifecycle.state;
	}

	get lifecycle(): OtaLifecycle {
		return this.#lifecycle;
	}

	/** The job shown in Info, if any. */
	get offer(): OtaJob | undefined {
		return this.#offer;
	}

	/** The approved job id while the node waits for the cloud to serve it again. */
	get approvedJobId(): string | undefined {
		return this.state === "approved" ? this.#offer?.jobId : undefined;
	}

	get busy(): boolean {
		return this.#lifecycle.busy;
	}

	/** On every MQTT connection: the first one confirms a pending image. Returns true when it did. */
	connected(): boolean {
		if (this.state !== "pending-verify" || !this.#context.guard.confirm()) return false;
		this.#lifecycle.fire("confirm");
		return true;
	}

	/** The node's own check (at start-up and every autofetchPeriodHours). */
	autoCheck(delaySeconds: number): void {
		if (this.busy) return;
		this.#context.fetcher.fetchWithDelay(delaySeconds);
	}

	check(): CommandResult {
		const refusal = this.#lifecycle.refusal("check");
		if (refusal) return {ok: false, message: refusal};
		this.#userAsked = true;
		this.#context.fetcher.fetchWithDelay(this.#context.options.requestFetchDelaySeconds);
		return {ok: true, message: "Checking for OTA updates."};
	}

	/**
	 * Approves the shown offer. A `remote` start (Operation=start through the cloud) within
	 * approvalSettleMs after Info stopped showing another offer (replaced or cleared) is refused:
	 * the user read Info through the cloud and wrote start back through it, so a start that close
	 * to the change answers the earlier offer (docs/ota-lifecycle.md, "Approval settle time"). A
	 * first offer after nothing was shown has no earlier offer to be mistaken for. The console
	 * reads the node itself: no wait.
	 */
	start(remote = false): CommandResult {
		const refusal = this.#lifecycle.refusal("start");
		if (refusal) return {ok: false, message: refusal};
		const offer = this.#offer;
		if (!offer) return {ok: false, message: "No OTA update is offered, nothing to approve. Use 'ota check' first."};
		if (this.state === "approved")
			return {
				ok: true,
				message: `OTA ${describe(offer)} is approved already; waiting for the cloud to serve it.`,
			};
		const {timers, fetcher, options, log} = this.#context;
		const age = timers.now() - this.#otherOfferGoneAt;
		if (remote && age < options.approvalSettleMs) {
			const text = StatusText.startTooSoon(Math.round(age));
			this.#context.reporter.report("delayed", text, offer.jobId);
			return {ok: false, message: `${text} (${describe(offer)})`};
		}
		this.#lifecycle.fire("approve");
		timers.clear(this.#approvalExpiry);
		this.#approvalExpiry = timers.set(() => {
			this.#approvalExpiry = undefined;
			if (this.state !== "approved") return;
			log.warn(
				`Approval of ${describe(offer)} lapsed: the cloud did not serve it within ${APPROVAL_VALIDITY_SECONDS} s`,
			);
			this.#lifecycle.fire("lapse");
		}, APPROVAL_VALIDITY_SECONDS * 1000);
		this.#userAsked = true;
		fetcher.fetchWithDelay(options.requestFetchDelaySeconds);
		return {ok: true, message: `OTA ${describe(offer)} approved; fetching it.`};
	}

	/** The OTA service's write callback: `Operation` carries a command. */
	onOperationWrite(writes: ReadonlyArray<ParamWrite>): boolean {
		for (const write of writes) {
			if (write.param.name !== OPERATION_PARAM) continue;
			const result = write.value === "start" ? this.start(true) : this.check();
			if (result.ok) this.#context.log.info(`Operation=${String(write.value)}: ${result.message}`);
			else this.#context.log.warn(`Operation=${String(write.value)} refused: ${result.message}`);
		}
		return true;
	}

	/** A message on node/<id>/otaurl. */
	onOtaUrl(payload: string): void {
		const {log, reporter} = this.#context;
		if (this.busy) {
			log.warn(`OTA already in progress (${this.state}). Please try later.`);
			return;
		}
		const result = parseOtaUrl(payload, this.#context.options);
		if ("cancelled" in result) {
			this.#cancelled(result.cancelled);
			return;
		}
		if ("error" in result) {
			if (result.jobId !== undefined) reporter.report("failed", result.error, result.jobId);
			else
				// The reference falls back to an earlier job's stored id here; that would fail a job this message is not about.
				log.warn(`otaurl refused (${result.error}); not reported: the message names no job`);
			return;
		}
		for (const warning of result.warnings) log.warn(`otaurl: ${warning}`);
		const job = result.job;
		let userAsked = this.#userAsked;
		this.#userAsked = false;
		if (this.state === "approved") {
			const approved = this.#offer!;
			this.#context.timers.clear(this.#approvalExpiry);
			this.#approvalExpiry = undefined;
			if (sameOffer(approved, job)) {
				if (this.#timeAllows(job)) this.#install(job);
				return;
			}
			log.warn(
				`${describe(approved)} was approved, but the cloud now serves ${describe(job)}${job.jobId === approved.jobId ? " with other contents" : ""}: offering it for approval instead`,
			);
			userAsked = true;
		}
		const rolledBack = this.#context.guard.rolledBackVersion;
		if (!userAsked && rolledBack !== undefined && job.fwVersion === rolledBack) {
			log.warn(
				`Not offering version ${rolledBack} (job ${job.jobId}) on the node's own check: it was rolled back. 'ota check' shows it.`,
			);
			return;
		}
		if (this.#timeAllows(job)) this.#present(job);
	}

	/** Lines for `ota status`, derived from the lifecycle state. */
	statusLines(): string[] {
		const {engine, reporter, guard} = this.#context;
		const lines: string[] = [`state: ${this.state}`];
		const offer = this.#offer;
		lines.push(
			offer
				? `offered: job ${offer.jobId}, version ${offer.fwVersion ?? "?"}${offer.fileSize ? `, ${offer.fileSize} bytes` : ""}`
				: "offered: nothing",
		);
		switch (this.state) {
			case "approved":
				lines.push(`approved: job ${offer?.jobId}, waiting for the cloud to serve it`);
				lines.push("running: nothing");
				break;
			case "installing": {
				const progress = engine.progress;
				if (progress) {
					const percent =
						progress.total > 0 ? ` (${Math.floor((progress.received * 100) / progress.total)}%)` : "";
					lines.push(
						`running: job ${progress.jobId}, attempt ${progress.attempt}, ${progress.received} of ${progress.total || "?"} bytes${percent}`,
					);
				} else lines.push("running: starting the update");
				break;
			}
			case "rebooting":
				lines.push("running: installed, rebooting into the new firmware");
				break;
			case "pending-verify":
				lines.push("running: new firmware waiting for its first MQTT connection to be confirmed");
				break;
			default:
				lines.push("running: nothing");
		}
		const last = reporter.last;
		lines.push(last ? `last status: ${last.status} "${last.info}" (job ${last.jobId})` : "last status: none");
		if (this.#lastOutcome) lines.push(`last update: ${this.#lastOutcome}`);
		if (guard.rolledBackVersion !== undefined)
			lines.push(`rolled back: version ${guard.rolledBackVersion} (not offered on the node's own checks)`);
		return lines;
	}

	/** Ends every timer and transfer (firmware.stop()). */
	stop(): void {
		this.#context.timers.clear(this.#approvalExpiry);
		this.#approvalExpiry = undefined;
		this.#context.engine.stop();
		this.#context.guard.stop();
	}

	/** The job's time metadata (docs/protocol.md §5.7): reports and withdraws the offer when it may not run now. */
	#timeAllows(job: OtaJob): boolean {
		const {timers, reporter, fetcher, log} = this.#context;
		const verdict = checkTimeMetadata(job.metadata, timers.epoch(), this.#timezone);
		if (!verdict) return true;
		reporter.report(verdict.status, verdict.text, job.jobId);
		if (verdict.fetchAfterSeconds !== undefined) fetcher.fetchWithDelay(verdict.fetchAfterSeconds);
		log.info(
			`OTA ${describe(job)}: ${verdict.text}${verdict.fetchAfterSeconds !== undefined ? ` Fetching again in ${verdict.fetchAfterSeconds} s.` : ""}`,
		);
		this.#withdraw();
		return false;
	}

	/** The cloud cancelled a job: the offer or approval of it is withdrawn at once, and reported so. */
	#cancelled(jobId: string): void {
		const {log, reporter, timers} = this.#context;
		if (this.#offer?.jobId !== jobId) {
			log.info(
				`OTA job ${jobId} cancelled by the cloud; it is not the one shown (${this.#offer ? describe(this.#offer) : "nothing"})`,
			);
			return;
		}
		timers.clear(this.#approvalExpiry);
		this.#approvalExpiry = undefined;
		log.warn(`OTA ${describe(this.#offer)} cancelled by the cloud: offer withdrawn`);
		this.#withdraw();
		reporter.report("rejected", StatusText.cancelled, jobId);
	}

	/** Drops the shown offer (Info cleared). */
	#withdraw(): void {
		if (this.#lifecycle.can("withdraw")) {
			this.#lifecycle.fire("withdraw");
			this.#offer = undefined;
			this.#otherOfferGoneAt = this.#context.timers.now();
			this.#context.params.updateParams(OTA_SERVICE_NAME, {[INFO_PARAM]: {}});
		}
	}

	/** Shows the job in Info (unless it is shown already) and reports it as waiting for approval. */
	#present(job: OtaJob): void {
		const shown = this.#offer;
		const same = shown !== undefined && sameOffer(shown, job) && sameOffer(job, shown);
		this.#lifecycle.fire("offer");
		this.#offer = job;
		if (!same) {
			if (shown !== undefined) this.#otherOfferGoneAt = this.#context.timers.now();
			this.#context.log.info(
				`OTA update ${job.fwVersion ?? "?"} available (job ${job.jobId}), waiting for approval`,
			);
			this.#context.params.updateParams(OTA_SERVICE_NAME, {[INFO_PARAM]: offerInfo(job)});
		}
		this.#context.reporter.report("delayed", StatusText.waitingForApproval, job.jobId);
	}

	#install(job: OtaJob): void {
		const {engine, params, fetcher, options, log} = this.#context;
		this.#lifecycle.fire("install");
		this.#offer = undefined;
		this.#otherOfferGoneAt = this.#context.timers.now();
		log.info(`Installing approved OTA ${describe(job)}`);
		engine.run(job, (outcome: InstallOutcome) => {
			this.#lastOutcome = outcome.kind === "rebooting" ? "rebooting" : `${outcome.kind}: ${outcome.text}`;
			params.updateParams(OTA_SERVICE_NAME, {[INFO_PARAM]: {}});
			if (outcome.kind === "rebooting") {
				this.#lifecycle.fire("installed");
				return;
			}
			this.#lifecycle.fire("end");
			if (outcome.kind === "failed") {
				// as the reference: fetch again later; the job, if served again, needs a new approval
				log.warn(
					`OTA ${describe(job)} failed (${outcome.text}); fetching again in ${options.retryDelayMinutes} min`,
				);
				fetcher.fetchWithDelay(options.retryDelayMinutes * 60);
			}
		});
	}
}
