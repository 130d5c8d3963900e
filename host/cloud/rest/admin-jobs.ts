/* `POST`/`PUT`/`GET admin/otajob` and `GET admin/otajob/status` (docs/protocol.md §9.2), for the admin user. */
import {ApiError, booleanQuery, expectObject, isObject, requiredQuery, requiredString, sendJson} from "../http-json";
import type {RequestContext} from "./context";

export async function postOtaJob({cloud, response, query, body}: RequestContext): Promise<void> {
	const forcePush = booleanQuery(query, "force_push", false);
	const userApproval = booleanQuery(query, "user_approval", false);
	const request = expectObject(await body(), "body");
	const name = requiredString(request, "ota_job_name");
	const imageId = requiredString(request, "ota_image_id");
	if (Array.isArray(request.groups) && request.groups.length > 0)
		throw new ApiError(400, 'body: "groups" are not supported by the local cloud; list the node ids in "nodes"');
	const nodes = request.nodes;
	if (
		!Array.isArray(nodes) ||
		nodes.length === 0 ||
		nodes.length > 100 ||
		nodes.some(node => typeof node !== "string" || node === "")
	)
		throw new ApiError(400, 'body: "nodes" must be an array of 1..100 non-empty node id strings');
	if (request.metadata !== undefined && !isObject(request.metadata))
		throw new ApiError(400, 'body: "metadata" must be a JSON object when given');
	// The local cloud's own field: a stream job also serves the image over MQTT (docs/protocol.md §5.10)
	if (request.stream !== undefined && typeof request.stream !== "boolean")
		throw new ApiError(400, 'body: "stream" must be true or false when given');
	const job = await cloud.createJob({
		name,
		imageId,
		nodes: nodes as string[],
		userApproval,
		forcePush,
		...(isObject(request.metadata) ? {metadata: request.metadata} : {}),
		...(request.stream === true ? {stream: true} : {}),
	});
	sendJson(response, 200, {ota_job_id: job.id, status: "success"});
}

/** Cancels a job (docs/protocol.md §9.2 `PUT admin/otajob`); archiving is accepted and means the same here. */
export async function putOtaJob({cloud, response, body}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	cloud.cancelJob(requiredString(request, "ota_job_id"));
	sendJson(response, 200, {status: "success", description: "OTA job cancelled"});
}

export async function getOtaJobStatus({cloud, response, query}: RequestContext): Promise<void> {
	const jobId = requiredQuery(query, "ota_job_id");
	if (!cloud.job(jobId)) throw new ApiError(404, `OTA job ${jobId} not found`);
	const nodeId = query.get("node_id");
	const states = cloud.jobStore.statesOf(jobId).filter(state => !nodeId || state.nodeId === nodeId);
	sendJson(response, 200, {
		node_ota_status: states.map(state => ({
			node_id: state.nodeId,
			status: state.status,
			timestamp: state.timestamp,
			additional_info: state.additionalInfo,
		})),
		total: states.length,
	});
}

/** `GET admin/otajob` (docs/protocol.md §9.2): the jobs, oldest first; `ota_job_id` picks one. */
export async function getOtaJobs({cloud, response, query}: RequestContext): Promise<void> {
	const jobId = query.get("ota_job_id");
	const jobs = cloud.jobs().filter(job => !jobId || job.id === jobId);
	if (jobId && jobs.length === 0) throw new ApiError(404, `OTA job ${jobId} not found`);
	sendJson(response, 200, {
		ota_jobs: jobs.map(job => {
			const states = cloud.jobStore.statesOf(job.id);
			return {
				ota_job_id: job.id,
				ota_job_name: job.name,
				ota_image_id: job.imageId,
				nodes: job.nodes,
				triggered_timestamp: Math.floor(job.createdAt / 1000),
				status: job.cancelled ? "cancelled" : "active",
				archived: false,
				user_approval: job.userApproval,
				force_push: job.forcePush,
				...(job.metadata ? {metadata: job.metadata} : {}),
				...(job.stream ? {stream: true, stream_id: job.id} : {}),
				total_count: states.length,
				completed_count: states.filter(state => state.status === "success").length,
				rejected_count: states.filter(state => state.status === "rejected").length,
			};
		}),
		total: jobs.length,
	});
}
