/* `GET user/nodes` with details and pagination, and `GET user/nodes/status` (docs/local-cloud.md, "REST API"). */
import {ApiError, booleanQuery, isObject, requiredQuery, sendJson, type JsonObject} from "../http-json";
import type {NodeRecord} from "../registry";
import type {RequestContext} from "./context";
import {nodeIdsOf, ownNode} from "./owned-nodes";

function connectivity(node: NodeRecord): JsonObject {
	return {connectivity: {connected: node.online, timestamp: node.lastSeen ?? 0}};
}

/** Params as listed: every device and service of the config has its entry (clients index by name). */
function listedParams(node: NodeRecord): JsonObject {
	const params: JsonObject = structuredClone(node.params);
	for (const key of ["devices", "services"]) {
		const entries = node.config?.[key];
		if (Array.isArray(entries)) {
			for (const entry of entries) {
				if (isObject(entry) && typeof entry.name === "string" && !isObject(params[entry.name]))
					params[entry.name] = {};
			}
		}
	}
	return params;
}

const maxRecords = 100;
const defaultRecords = 25;

/** `GET user/nodes`: ids, or with `node_details` the config/status/params of each; `num_records`/`start_id` → `next_id`/`total`. */
export async function getUserNodes({cloud, response, query, caller}: RequestContext): Promise<void> {
	const account = caller!.account;
	const single = query.get("node_id");
	let ids: string[];
	let nextId: string | undefined;
	let total: number;
	if (single !== null && single !== "") {
		ownNode(cloud, account, single);
		ids = [single];
		total = 1;
	} else {
		const all = nodeIdsOf(cloud, account);
		total = all.length;
		const countText = query.get("num_records");
		const count = countText === null || countText === "" ? defaultRecords : Number(countText);
		if (!Number.isInteger(count) || count < 1 || count > maxRecords)
			throw new ApiError(400, `query parameter "num_records" must be an integer from 1 to ${maxRecords}`);
		const startId = query.get("start_id");
		let start = 0;
		if (startId !== null && startId !== "") {
			start = all.indexOf(startId);
			if (start < 0)
				throw new ApiError(400, `query parameter "start_id": ${startId} is not one of this user's nodes`);
		}
		ids = all.slice(start, start + count);
		nextId = all[start + count];
	}
	// One node asked by id comes with its details, as the app SDK's getNodeDetails expects.
	const details = booleanQuery(query, "node_details", single !== null && single !== "");
	const answer: JsonObject = {nodes: ids, total};
	if (details) {
		const withConfig = booleanQuery(query, "config", true);
		const withStatus = booleanQuery(query, "status", true);
		const withParams = booleanQuery(query, "params", true);
		answer.node_details = ids.map(id => {
			const node = ownNode(cloud, account, id);
			return {
				node_id: id,
				role: "primary",
				primary: true,
				...(withStatus ? {status: connectivity(node)} : {}),
				...(withConfig && node.config ? {config: node.config} : {}),
				...(withParams ? {params: listedParams(node)} : {}),
			};
		});
	}
	if (nextId !== undefined) answer.next_id = nextId;
	sendJson(response, 200, answer);
}

/** `GET user/nodes/status?node_id=`. */
export async function getNodeStatus({cloud, response, query, caller}: RequestContext): Promise<void> {
	sendJson(response, 200, connectivity(ownNode(cloud, caller!.account, requiredQuery(query, "node_id", "nodeid"))));
}
