/* The user's OTA calls: `GET user/nodes/ota_status`, and the cloud-side approval `GET`/`POST user/nodes/ota_update` (docs/protocol.md §2.2). */
import {ApiError, expectObject, requiredQuery, requiredString, sendJson} from "../http-json";
import type {RequestContext} from "./context";
import {ownNode} from "./owned-nodes";

function knownNode(context: RequestContext, nodeId: string) {
	return ownNode(context.cloud, context.caller!.account, nodeId);
}

export async function getOtaStatus(context: RequestContext): Promise<void> {
	const {cloud, response, query} = context;
	// A job's node that has not connected yet still has a status (triggered) for its owner.
	const nodeId = requiredQuery(query, "node_id");
	if (!cloud.users.owns(context.caller!.account, nodeId)) throw new ApiError(404, `node ${nodeId} not found`);
	const jobId = requiredQuery(query, "ota_job_id");
	if (!cloud.job(jobId)) throw new ApiError(404, `OTA job ${jobId} not found`);
	const state = cloud.jobState(nodeId, jobId);
	if (!state) throw new ApiError(404, `node ${nodeId} is not part of OTA job ${jobId}`);
	sendJson(response, 200, {
		node_id: nodeId,
		status: state.status,
		additional_info: state.additionalInfo,
		timestamp: state.timestamp,
	});
}

/** The cloud-side user approval (docs/protocol.md §2.2): what a user-approval job offers this node. */
export async function getOtaUpdate(context: RequestContext): Promise<void> {
	const {cloud, response, query} = context;
	const node = knownNode(context, requiredQuery(query, "node_id"));
	const job = cloud.jobStore.awaitingApproval(node.id);
	if (!job) {
		sendJson(response, 200, {status: "success", ota_available: false, description: "No OTA update available"});
		return;
	}
	const {ota_job_id, ...offer} = cloud.otaurlPayload(job);
	sendJson(response, 200, {
		status: "success",
		ota_available: true,
		description: `OTA update ${offer.fw_version} available (${job.name})`,
		ota_job_id,
		...offer,
	});
}

export async function postOtaUpdate(context: RequestContext): Promise<void> {
	const {cloud, response, body} = context;
	const request = expectObject(await body(), "body");
	const nodeId = knownNode(context, requiredString(request, "node_id")).id;
	await cloud.approve(nodeId, requiredString(request, "ota_job_id"));
	sendJson(response, 200, {status: "success", description: "OTA update pushed to the node"});
}
