/* A node's config and params: `GET user/nodes/config`, `GET`/`PUT user/nodes/params` (docs/protocol.md §9.1). */
import {ApiError, expectObject, isObject, requiredQuery, sendJson, type JsonObject} from "../http-json";
import type {RequestContext} from "./context";
import {ownNode} from "./owned-nodes";

function knownNode(context: RequestContext, nodeId: string) {
	return ownNode(context.cloud, context.caller!.account, nodeId);
}

export async function getConfig(context: RequestContext): Promise<void> {
	const {response, query} = context;
	const node = knownNode(context, requiredQuery(query, "node_id", "nodeid"));
	if (!node.config) throw new ApiError(404, `node ${node.id} has not reported its config yet`);
	sendJson(response, 200, node.config);
}

export async function getParams(context: RequestContext): Promise<void> {
	const {response, query} = context;
	sendJson(response, 200, knownNode(context, requiredQuery(query, "node_id", "nodeid")).params);
}

/** Current form: an array of `{node_id, payload}`; legacy form: `?node_id=` with the payload as body (docs/protocol.md §9.1). */
export async function putParams(context: RequestContext): Promise<void> {
	const {cloud, response, query, body} = context;
	const value = await body();
	if (Array.isArray(value)) {
		if (value.length === 0) throw new ApiError(400, "body: the array of {node_id, payload} is empty");
		const results: JsonObject[] = [];
		for (const entry of value) results.push(await setOne(context, entry));
		sendJson(response, 200, results);
		return;
	}
	const nodeId = query.get("node_id") ?? query.get("nodeid");
	if (!nodeId)
		throw new ApiError(
			400,
			"body must be an array of {node_id, payload}, or a params object with the node_id query parameter",
		);
	knownNode(context, nodeId);
	await cloud.setParams(nodeId, expectObject(value, "body"));
	sendJson(response, 200, {status: "success", description: "Successfully set params"});
}

async function setOne(context: RequestContext, entry: unknown): Promise<JsonObject> {
	const {cloud} = context;
	const nodeId = isObject(entry) && typeof entry.node_id === "string" ? entry.node_id : undefined;
	try {
		if (!isObject(entry) || nodeId === undefined || nodeId === "")
			throw new ApiError(400, "each entry must be an object with a non-empty node_id string");
		if (!isObject(entry.payload)) throw new ApiError(400, "payload must be a JSON object");
		knownNode(context, nodeId);
		await cloud.setParams(nodeId, entry.payload);
		return {node_id: nodeId, status: "success", description: "Successfully set params"};
	} catch (error) {
		if (!(error instanceof ApiError)) throw error;
		return {node_id: nodeId ?? null, status: "failure", description: error.message};
	}
}
