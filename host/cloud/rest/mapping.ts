/* `PUT`/`GET user/nodes/mapping` (docs/local-cloud.md, "Users and authorization"). */
import {ApiError, expectObject, optionalString, requiredQuery, requiredString, sendJson} from "../http-json";
import type {RequestContext} from "./context";
import {ownNode} from "./owned-nodes";

/** `PUT user/nodes/mapping`: `add` with the node's secret key (confirmed by the node over MQTT), or `remove`. */
export async function putMapping({cloud, response, body, caller}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	const nodeId = requiredString(request, "node_id");
	const operation = optionalString(request, "operation") ?? "add";
	const account = caller!.account;
	if (operation === "remove") {
		ownNode(cloud, account, nodeId);
		cloud.users.map(nodeId, undefined);
		sendJson(response, 200, {status: "success", description: "User node mapping removed successfully"});
		return;
	}
	if (operation !== "add")
		throw new ApiError(400, `body: "operation" must be "add" or "remove", not ${JSON.stringify(operation)}`);
	const secretKey = requiredString(request, "secret_key");
	const requestId = cloud.requestMapping(nodeId, account.userId, secretKey);
	sendJson(response, 200, {
		status: "success",
		request_id: requestId,
		description: "User node mapping request created successfully",
	});
}

/** `GET user/nodes/mapping?request_id=`. */
export async function getMapping({cloud, response, query, caller}: RequestContext): Promise<void> {
	const requestId = requiredQuery(query, "request_id");
	const mapping = cloud.mappingRequest(requestId);
	if (!mapping || mapping.userId !== caller!.account.userId)
		throw new ApiError(404, `mapping request ${requestId} not found`);
	sendJson(response, 200, {request_id: requestId, request_status: mapping.status});
}
