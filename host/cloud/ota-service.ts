/*
 * The cloud's OTA side of a node's life: creating and cancelling jobs, the cloud-side approval,
 * serving a job on `otaurl` (docs/protocol.md §4.2) in answer to an otafetch, a force push or an
 * approval, and recording the node's otastatus reports (jobs.ts holds the state).
 */
import type {EventEmitter} from "node:events";
import type {CloudEventMap, OtaurlEvent} from "./cloud-api";
import {ApiError, ErrorCode, isObject, type JsonObject} from "./http-json";
import type {ImageStore, OtaImage} from "./images";
import {isStatusReport, type JobSpec, type JobStore, type CloudOtaJob} from "./jobs";
import type {NodeRegistry} from "./registry";
import {nodeTopic} from "./topics";

export interface OtaServiceDeps {
	images: ImageStore;
	jobStore: JobStore;
	registry: NodeRegistry;
	events: EventEmitter<CloudEventMap>;
	/** Publishes from the cloud to a node (QoS 1, never retained). */
	publish(topic: string, payload: string): Promise<void>;
	imageUrl(image: OtaImage): string;
	log(line: string): void;
}

export class OtaService {
	readonly #deps: OtaServiceDeps;

	constructor(deps: OtaServiceDeps) {
		this.#deps = deps;
	}

	async createJob(spec: JobSpec): Promise<CloudOtaJob> {
		const {images, jobStore, registry} = this.#deps;
		if (!images.get(spec.imageId)) throw new ApiError(404, `OTA image ${spec.imageId} not found`);
		if (
			!Array.isArray(spec.nodes) ||
			spec.nodes.length === 0 ||
			spec.nodes.length > 100 ||
			spec.nodes.some(node => typeof node !== "string" || node === "")
		)
			throw new ApiError(400, "nodes must be an array of 1..100 non-empty node id strings");
		const job = jobStore.create(spec);
		this.#deps.log(
			`job ${job.id} (${job.name}) created for ${job.nodes.join(", ")}: image ${spec.imageId}` +
				`${job.userApproval ? ", user approval" : ""}${job.forcePush ? ", force push" : ""}`,
		);
		if (job.forcePush && !job.userApproval) {
			for (const nodeId of job.nodes) {
				if (registry.get(nodeId)?.online) await this.#serve(nodeId, job, "force-push");
			}
		}
		return job;
	}

	/**
	 * Ends a job for every node, and withdraws it at once from each online node it is still open
	 * for: an otaurl naming the job with `cancelled: true` and no URL (docs/local-cloud.md, "OTA
	 * jobs"); the node clears Info, drops an approval of it and reports `rejected`.
	 */
	cancelJob(jobId: string): void {
		const {jobStore, registry, events} = this.#deps;
		const open = jobStore.get(jobId)?.nodes.filter(nodeId => jobStore.isOpen(nodeId, jobId)) ?? [];
		if (!jobStore.cancel(jobId)) throw new ApiError(404, `OTA job ${jobId} not found`);
		for (const nodeId of open.filter(id => registry.get(id)?.online)) {
			this.#deps
				.publish(nodeTopic(nodeId, "otaurl"), JSON.stringify({ota_job_id: jobId, cancelled: true}))
				.then(() => this.#deps.log(`${nodeId} ← otaurl ${jobId} cancelled`))
				.catch((error: Error) => events.emit("warning", `cancel of ${jobId} to ${nodeId}: ${error.message}`));
		}
	}

	async approve(nodeId: string, jobId: string): Promise<void> {
		const {jobStore, registry} = this.#deps;
		const job = jobStore.get(jobId);
		if (!job) throw new ApiError(404, `OTA job ${jobId} not found`);
		if (!jobStore.state(nodeId, jobId)) throw new ApiError(404, `node ${nodeId} is not part of OTA job ${jobId}`);
		if (!jobStore.isOpen(nodeId, jobId))
			throw new ApiError(400, `OTA job ${jobId} is no longer open for node ${nodeId}`);
		if (!registry.get(nodeId)?.online) throw new ApiError(400, "Node is offline", ErrorCode.nodeOffline);
		jobStore.approve(nodeId, jobId);
		await this.#serve(nodeId, job, "approval");
	}

	/** The otaurl payload of docs/protocol.md §4.2 for a job. */
	otaurlPayload(job: CloudOtaJob): JsonObject {
		const image = this.#deps.images.get(job.imageId)!;
		return {
			ota_job_id: job.id,
			url: this.#deps.imageUrl(image),
			file_size: image.fileSize,
			fw_version: image.fwVersion,
			file_md5: image.fileMd5,
			...(job.metadata ? {metadata: job.metadata} : {}),
			// the stream's id is the job's: a node of the MQTT build downloads from it (docs/protocol.md §5.10)
			...(job.stream ? {stream_id: job.id} : {}),
		};
	}

	onOtafetch(nodeId: string, payload: string): void {
		const {events, jobStore, registry} = this.#deps;
		// The node id comes from the topic; a broken payload still asks for an update.
		let fwVersion: string | undefined;
		try {
			const message: unknown = JSON.parse(payload);
			if (isObject(message) && typeof message.fw_version === "string") fwVersion = message.fw_version;
		} catch {
			events.emit("warning", `${nodeId}/otafetch: payload is not JSON`);
		}
		const node = registry.ensure(nodeId);
		if (fwVersion !== undefined) node.fetchedFwVersion = fwVersion;
		const job = jobStore.jobToServe(nodeId);
		this.#deps.log(
			`${nodeId} → otafetch (fw ${fwVersion ?? "?"}): ${job ? `serving ${job.id}` : "nothing to serve"}`,
		);
		events.emit("otafetch", {
			nodeId,
			...(fwVersion !== undefined ? {fwVersion} : {}),
			...(job ? {servedJobId: job.id} : {}),
		});
		if (job)
			this.#serve(nodeId, job, "otafetch").catch((error: Error) =>
				events.emit("warning", `otaurl to ${nodeId}: ${error.message}`),
			);
	}

	onStatus(nodeId: string, payload: string): void {
		const {events, jobStore} = this.#deps;
		const report = jobStore.report(nodeId, payload);
		if (isStatusReport(report)) {
			this.#deps.log(
				`${nodeId} → otastatus ${report.jobId} ${report.status}: ${report.additionalInfo}${report.known ? "" : " (unknown job, ignored)"}`,
			);
			events.emit("status", report);
		} else {
			events.emit("warning", `${nodeId}/otastatus: ${report.problem}, ignored`);
			events.emit("malformed-status", report);
		}
	}

	async #serve(nodeId: string, job: CloudOtaJob, reason: OtaurlEvent["reason"]): Promise<void> {
		const payload = this.otaurlPayload(job);
		this.#deps.jobStore.markServed(nodeId, job.id);
		await this.#deps.publish(nodeTopic(nodeId, "otaurl"), JSON.stringify(payload));
		this.#deps.log(`${nodeId} ← otaurl ${job.id} (${reason}): ${payload.fw_version}, ${payload.file_size} bytes`);
		this.#deps.events.emit("otaurl", {nodeId, jobId: job.id, payload, reason});
	}
}
