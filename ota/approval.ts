/*
 * The approval (docs/ota-lifecycle.md, "Parts"): it owns the one lifecycle state (lifecycle.ts)
 * and fires its transitions; the fetcher, the update engine, the rollback guard and the reporter
 * carry out the effects, and the application hears the OTA events (events.ts).
 *
 * A check sends otafetch; a job the cloud serves is offered, not installed: `Info` shows it and the
 * job is reported `delayed` "Waiting for Approval". Approval (`Operation` = start, or `ota start`)
 * is single-use and bound to exactly what was shown: job id, version, and size and MD5 when the
 * offer had them. The node fetches again, so the cloud serves a fresh URL, and only an otaurl
 * matching the binding starts the update; anything else (another job, or the same job id naming
 * another version, size or MD5) is offered again and needs its own approval. Before the download
 * the application's listeners get `starting` and may hold the update (state `held`, bounded by
 * holdTimeoutSeconds); with autoReboot off an installed image waits in `reboot-requested` until the
 * application calls reboot() (docs/product.md).
 */
import type {JsonValue, ParamWrite} from "../rainmaker/model";
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import type {OtaEvents, OtaHold} from "./events";
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
	/** The application's OTA listeners. */
	readonly events: OtaEvents;
	/** Restarts into the installed image when the application asks (BootControl.restart). */
	readonly restart: () => void;
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

export class Approval {
	#context: ApprovalContext;
	#lifecycle: OtaLifecycle;
	/** The job shown in Info (states offered and approved). */
	#offer: OtaJob | undefined;
	#approvalExpiry: TimerHandle | undefined;
	/** State held: the job, the reasons of the open holds, the timeout; #holdRun tells a stale hold's release apart. */
	#heldJob: OtaJob | undefined;
	readonly #openHolds = new Set<OtaHold>();
	#holdTimer: TimerHandle | undefined;
	#holdRun = 0;
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
		this.#lifecycle.fire("ask");
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
		this.#lifecycle.fire("ask");
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
		const approved = this.state === "approved" ? this.#offer! : undefined;
		const rolledBack = this.#context.guard.rolledBackVersion;
		// The guard `served` (lifecycle.ts) decides; the effects follow.
		const decision = this.#lifecycle.served({
			matchesApproval: approved !== undefined && sameOffer(approved, job),
			rolledBack: rolledBack !== undefined && job.fwVersion === rolledBack,
		});
		if (approved) {
			this.#context.timers.clear(this.#approvalExpiry);
			this.#approvalExpiry = undefined;
			if (decision === "offer")
				log.warn(
					`${describe(approved)} was approved, but the cloud now serves ${describe(job)}${job.jobId === approved.jobId ? " with other contents" : ""}: offering it for approval instead`,
				);
		}
		if (decision === "skip") {
			log.warn(
				`Not offering version ${rolledBack} (job ${job.jobId}) on the node's own check: it was rolled back. 'ota check' shows it.`,
			);
			return;
		}
		if (!this.#timeAllows(job)) return;
		if (decision === "install") this.#begin(job);
		else this.#present(job);
	}

	/**
	 * The application reboots into the installed image (state reboot-requested, autoReboot off);
	 * refused in any other state. The rollback rules after the reboot are the usual ones.
	 */
	reboot(): CommandResult {
		if (!this.#lifecycle.can("reboot"))
			return {
				ok: false,
				message: `Reboot refused: no installed firmware waits for the application's reboot (state ${this.state}).`,
			};
		this.#lifecycle.fire("reboot");
		this.#context.log.info("The application reboots into the new firmware");
		this.#context.restart();
		return {ok: true, message: "Rebooting into the new firmware."};
	}

	/** How the last update attempt of this boot ended ("rebooting", or its kind and text), for `ota status`. */
	get lastOutcome(): string | undefined {
		return this.#lastOutcome;
	}

	/** The job the application holds before its download (state held), and the holders' reasons, for `ota status`. */
	get held(): {readonly job: OtaJob; readonly reasons: string} | undefined {
		return this.#heldJob ? {job: this.#heldJob, reasons: this.#holdReasons()} : undefined;
	}

	/** Ends every timer and transfer (firmware.stop()). */
	stop(): void {
		this.#context.timers.clear(this.#approvalExpiry);
		this.#approvalExpiry = undefined;
		this.#endHold();
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

	/**
	 * The approved job was served: the application's `starting` event, then the guard of the table:
	 * `install` when no listener holds it, else `hold` until every hold is released (`release`) or
	 * holdTimeoutSeconds pass (`expire`: `failed`, naming the hold).
	 */
	#begin(job: OtaJob): void {
		const {events, timers, reporter, options, log} = this.#context;
		this.#offer = undefined;
		this.#otherOfferGoneAt = timers.now();
		const run = ++this.#holdRun;
		this.#heldJob = job;
		events.starting(job.jobId, StatusText.startingJob(job.fwVersion), reason => this.#makeHold(run, reason));
		if (this.#openHolds.size === 0) {
			this.#heldJob = undefined;
			this.#lifecycle.fire("install");
			this.#install(job);
			return;
		}
		this.#lifecycle.fire("hold");
		const reasons = this.#holdReasons();
		log.info(`OTA ${describe(job)} held by the application (${reasons}) for up to ${options.holdTimeoutSeconds} s`);
		reporter.report("in-progress", StatusText.held(reasons), job.jobId);
		this.#holdTimer = timers.set(() => {
			this.#holdTimer = undefined;
			if (run !== this.#holdRun || this.state !== "held") return;
			const text = StatusText.holdExpired(options.holdTimeoutSeconds, this.#holdReasons());
			this.#endHold();
			this.#lifecycle.fire("expire");
			this.#context.reporter.report("failed", text, job.jobId);
			this.#ended(job, {kind: "failed", text});
		}, options.holdTimeoutSeconds * 1000);
	}

	#makeHold(run: number, reason: string): OtaHold {
		const hold: OtaHold = {
			reason,
			release: () => {
				if (run !== this.#holdRun || !this.#openHolds.delete(hold)) return;
				if (this.#openHolds.size > 0 || this.state !== "held") return;
				const job = this.#heldJob!;
				this.#endHold();
				this.#context.log.info(`OTA ${describe(job)} released by the application`);
				this.#lifecycle.fire("release");
				this.#install(job);
			},
		};
		this.#openHolds.add(hold);
		return hold;
	}

	#holdReasons(): string {
		return [...this.#openHolds].map(hold => hold.reason).join("; ");
	}

	/** Drops the hold bookkeeping; a later release of an old hold does nothing. */
	#endHold(): void {
		this.#holdRun++;
		this.#openHolds.clear();
		this.#heldJob = undefined;
		this.#context.timers.clear(this.#holdTimer);
		this.#holdTimer = undefined;
	}

	#install(job: OtaJob): void {
		const {engine, events, options, log} = this.#context;
		log.info(`Installing approved OTA ${describe(job)}`);
		engine.run(job, (outcome: InstallOutcome) => {
			if (outcome.kind !== "rebooting") {
				this.#lifecycle.fire("end");
				this.#ended(job, outcome);
				return;
			}
			this.#lastOutcome = "rebooting";
			this.#context.params.updateParams(OTA_SERVICE_NAME, {[INFO_PARAM]: {}});
			// the guard of the table: autoReboot picks the event
			if (options.autoReboot) {
				this.#lifecycle.fire("installed");
				return;
			}
			this.#lifecycle.fire("request-reboot");
			this.#lastOutcome = "installed, waiting for the application to reboot";
			// the engine's in-progress text of this install ("... waiting for the application to reboot into it")
			const last = this.#context.reporter.last;
			events.rebootRequested(job.jobId, last?.jobId === job.jobId ? last.info : StatusText.awaitingReboot(1));
		});
	}

	/** A job that ended without a new image: Info cleared; a `failed` one is fetched again later. */
	#ended(job: OtaJob, outcome: {kind: "failed" | "rejected"; text: string}): void {
		const {params, fetcher, options, log} = this.#context;
		this.#lastOutcome = `${outcome.kind}: ${outcome.text}`;
		params.updateParams(OTA_SERVICE_NAME, {[INFO_PARAM]: {}});
		if (outcome.kind === "failed") {
			// as the reference: fetch again later; the job, if served again, needs a new approval
			log.warn(
				`OTA ${describe(job)} failed (${outcome.text}); fetching again in ${options.retryDelayMinutes} min`,
			);
			fetcher.fetchWithDelay(options.retryDelayMinutes * 60);
		}
	}
}
