/*
 * OTA jobs and their per-node state machine (docs/protocol.md §5.14, §11 items 3 and 4, docs/protocol.md §12):
 *
 *   triggered ──(status reports)──▶ in-progress / delayed / failed / success / rejected
 *
 * The state shows the latest status the node reported. A job is "open" for a node until the node
 * reports a terminal status; an open job is what an otafetch from the node is answered with.
 * - `success` and `rejected` close the job for the node (docs/protocol.md §5.14).
 * - `delayed` keeps it open, so it is served again on the next otafetch: the reference's time
 *   windows and the user-approval pattern depend on that (docs/protocol.md §5.7, §2.3).
 * - `failed` keeps it open by default (`failedIsTerminal: false`): the reference's retry loop
 *   reports `failed` per attempt and fetches again after its last attempt, and the newer
 *   TEST_ROLLBACK / ROLLBACK_REPORT_FAILED texts say the cloud re-serves the same job (docs/protocol.md §5.14);
 *   the older reading (failed ends the job, the dashboard FAQ's; docs/protocol.md §10) is available with `failedIsTerminal: true`.
 * A closed job stays closed; later reports for it are still recorded and shown.
 *
 * What is kept is bounded, so junk reports cannot grow the cloud without limit (docs/local-cloud.md,
 * "Bounded reports"): each text field is cut to a fixed length, and each list keeps only its
 * newest entries (per node and job, and for unknown-job and unreadable reports).
 */
import {randomBytes} from "node:crypto";
import type {OtaStatus} from "../../ota/status";
import {isObject, type JsonObject} from "./http-json";

/** The statuses a node reports: the firmware's type (ota/status.ts), each listed once here (tsc checks the list). */
const reported = {"in-progress": 1, success: 1, failed: 1, delayed: 1, rejected: 1} satisfies Record<OtaStatus, 1>;
export const otaStatuses = Object.freeze(Object.keys(reported) as OtaStatus[]);
/** The cloud's own state before the node reported anything (docs/protocol.md §5.14 summary counter `triggered`). */
export type NodeJobStatus = OtaStatus | "triggered";

/** Longest kept additional_info (the node's texts are far shorter; docs/protocol.md §4.3). */
export const MAX_INFO_CHARS = 1024;
/** Longest kept job id, status and network id of a report, and excerpt of an unreadable payload. */
export const MAX_FIELD_CHARS = 128;
export const MAX_PAYLOAD_EXCERPT_CHARS = 256;
/** Reports kept per node and job (a retry loop reports a few dozen), and of unknown jobs / unreadable ones. */
export const MAX_HISTORY = 256;
export const MAX_STRAY_REPORTS = 100;

function cut(text: string, max: number): string {
	return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

function pushBounded<T>(list: T[], item: T, max: number): void {
	list.push(item);
	if (list.length > max) list.splice(0, list.length - max);
}

export function isOtaStatus(value: unknown): value is OtaStatus {
	return (otaStatuses as readonly unknown[]).includes(value);
}

export interface JobSpec {
	imageId: string;
	nodes: string[];
	name?: string;
	/** The cloud-side user approval (docs/protocol.md §2.2): served only after `POST user/nodes/ota_update` for the node. */
	userApproval?: boolean;
	/** Also pushed at once to the nodes online at creation. */
	forcePush?: boolean;
	/** Sent to the node as `otaurl.metadata`. */
	metadata?: JsonObject;
	/** A stream job: `otaurl` also carries `stream_id`, and the image is served over MQTT (docs/protocol.md §5.10). */
	stream?: boolean;
}

/** An OTA job as the cloud keeps it (a node receives ota/otaurl.ts `OtaJob`; the page lists `ListedJob`). */
export interface CloudOtaJob {
	id: string;
	name: string;
	imageId: string;
	nodes: string[];
	userApproval: boolean;
	forcePush: boolean;
	metadata?: JsonObject;
	/** A stream job: its stream id is the job id (host/cloud/streams.ts). */
	stream?: boolean;
	/** Epoch ms. */
	createdAt: number;
	cancelled: boolean;
}

export interface StatusReport {
	nodeId: string;
	jobId: string;
	/** As the node sent it (normally one of `otaStatuses`). */
	status: string;
	additionalInfo: string;
	/** The node's `ts` (epoch seconds once the node has time; docs/protocol.md §4.3). */
	ts?: number;
	networkId?: string;
	/** Cloud clock, epoch ms. */
	receivedAt: number;
	/** False when the job id is unknown or the job does not target this node: recorded and ignored. */
	known: boolean;
}

/** An otastatus payload that could not be read at all (not JSON, no job id, no status). */
export interface MalformedReport {
	nodeId: string;
	payload: string;
	problem: string;
	receivedAt: number;
}

export interface NodeJobState {
	nodeId: string;
	jobId: string;
	status: NodeJobStatus;
	additionalInfo: string;
	/** Epoch seconds (cloud clock) of the last state change. */
	timestamp: number;
	/** A terminal status arrived: never served again. */
	closed: boolean;
	/** User-approval job approved for this node (`POST user/nodes/ota_update`). */
	approved: boolean;
	servedCount: number;
	/** Every report for this node and job, in arrival order. */
	history: StatusReport[];
}

export class JobStore {
	readonly #jobs = new Map<string, CloudOtaJob>();
	/** `${jobId}\n${nodeId}` → state. */
	readonly #states = new Map<string, NodeJobState>();
	readonly unknownReports: StatusReport[] = [];
	readonly malformedReports: MalformedReport[] = [];

	readonly #now: () => number;

	constructor(
		now: () => number,
		readonly failedIsTerminal: boolean,
	) {
		this.#now = now;
	}

	create(spec: JobSpec): CloudOtaJob {
		const nodes = [...new Set(spec.nodes)];
		const job: CloudOtaJob = {
			id: `job_${randomBytes(6).toString("hex")}`,
			name: spec.name ?? `job-${this.#jobs.size + 1}`,
			imageId: spec.imageId,
			nodes,
			userApproval: spec.userApproval ?? false,
			forcePush: spec.forcePush ?? false,
			...(spec.metadata ? {metadata: structuredClone(spec.metadata)} : {}),
			...(spec.stream ? {stream: true} : {}),
			createdAt: this.#now(),
			cancelled: false,
		};
		this.#jobs.set(job.id, job);
		for (const nodeId of nodes) {
			this.#states.set(key(job.id, nodeId), {
				nodeId,
				jobId: job.id,
				status: "triggered",
				additionalInfo: "",
				timestamp: Math.floor(job.createdAt / 1000),
				closed: false,
				approved: false,
				servedCount: 0,
				history: [],
			});
		}
		return job;
	}

	get(jobId: string): CloudOtaJob | undefined {
		return this.#jobs.get(jobId);
	}

	all(): CloudOtaJob[] {
		return [...this.#jobs.values()];
	}

	/** Cancelled jobs are never served again. */
	cancel(jobId: string): boolean {
		const job = this.#jobs.get(jobId);
		if (!job) return false;
		job.cancelled = true;
		return true;
	}

	state(nodeId: string, jobId: string): NodeJobState | undefined {
		return this.#states.get(key(jobId, nodeId));
	}

	/** The states of one job, in the job's node order. */
	statesOf(jobId: string): NodeJobState[] {
		const job = this.#jobs.get(jobId);
		return job ? job.nodes.map(nodeId => this.#states.get(key(jobId, nodeId))!) : [];
	}

	isOpen(nodeId: string, jobId: string): boolean {
		const job = this.#jobs.get(jobId);
		const state = this.state(nodeId, jobId);
		return job !== undefined && state !== undefined && !job.cancelled && !state.closed;
	}

	/** Open jobs for the node, newest first. */
	openJobs(nodeId: string): CloudOtaJob[] {
		return this.all()
			.filter(job => this.isOpen(nodeId, job.id))
			.reverse();
	}

	/** What an otafetch from the node is answered with: the newest open job it may receive. */
	jobToServe(nodeId: string): CloudOtaJob | undefined {
		return this.openJobs(nodeId).find(job => !job.userApproval || this.state(nodeId, job.id)!.approved);
	}

	/** The newest open user-approval job not yet approved (`GET user/nodes/ota_update`). */
	awaitingApproval(nodeId: string): CloudOtaJob | undefined {
		return this.openJobs(nodeId).find(job => job.userApproval && !this.state(nodeId, job.id)!.approved);
	}

	approve(nodeId: string, jobId: string): void {
		const state = this.state(nodeId, jobId);
		if (state) state.approved = true;
	}

	markServed(nodeId: string, jobId: string): void {
		const state = this.state(nodeId, jobId);
		if (state) state.servedCount++;
	}

	/** Records an otastatus payload from the node; returns the report, or the reason it was unreadable. */
	report(nodeId: string, payload: string): StatusReport | MalformedReport {
		const receivedAt = this.#now();
		let message: unknown;
		try {
			message = JSON.parse(payload);
		} catch {
			return this.#malformed({
				nodeId,
				payload: cut(payload, MAX_PAYLOAD_EXCERPT_CHARS),
				problem: "payload is not JSON",
				receivedAt,
			});
		}
		if (!isObject(message) || typeof message.ota_job_id !== "string" || message.ota_job_id === "")
			return this.#malformed({
				nodeId,
				payload: cut(payload, MAX_PAYLOAD_EXCERPT_CHARS),
				problem: "no ota_job_id string",
				receivedAt,
			});
		if (typeof message.status !== "string")
			return this.#malformed({
				nodeId,
				payload: cut(payload, MAX_PAYLOAD_EXCERPT_CHARS),
				problem: "no status string",
				receivedAt,
			});
		const state = this.state(nodeId, message.ota_job_id);
		const jobId = cut(message.ota_job_id, MAX_FIELD_CHARS);
		const report: StatusReport = {
			nodeId,
			jobId,
			status: cut(message.status, MAX_FIELD_CHARS),
			additionalInfo:
				typeof message.additional_info === "string" ? cut(message.additional_info, MAX_INFO_CHARS) : "",
			...(typeof message.ts === "number" ? {ts: message.ts} : {}),
			...(typeof message.network_id === "string" ? {networkId: cut(message.network_id, MAX_FIELD_CHARS)} : {}),
			receivedAt,
			known: state !== undefined,
		};
		if (!state) {
			pushBounded(this.unknownReports, report, MAX_STRAY_REPORTS);
			return report;
		}
		pushBounded(state.history, report, MAX_HISTORY);
		if (isOtaStatus(report.status)) {
			state.status = report.status;
			state.additionalInfo = report.additionalInfo;
			state.timestamp = Math.floor(receivedAt / 1000);
			if (
				report.status === "success" ||
				report.status === "rejected" ||
				(report.status === "failed" && this.failedIsTerminal)
			)
				state.closed = true;
		}
		return report;
	}

	#malformed(report: MalformedReport): MalformedReport {
		pushBounded(this.malformedReports, report, MAX_STRAY_REPORTS);
		return report;
	}
}

function key(jobId: string, nodeId: string): string {
	return `${jobId}\n${nodeId}`;
}

export function isStatusReport(value: StatusReport | MalformedReport): value is StatusReport {
	return "jobId" in value;
}
