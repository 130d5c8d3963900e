/*
 * The user side of the REST API as Espressif's app SDK and esp-rainmaker-cli call it
 * (docs/local-cloud.md, "REST API"): `login2` (password or refresh token), `logout2`, user info,
 * the user's node list with details and pagination, connectivity status, user–node mapping, and
 * the unauthenticated `apiversions` and `mqtt_host`.
 */
import {randomUUID} from "node:crypto";
import type {LocalCloud} from "./cloud";
import {ApiError, ErrorCode, booleanQuery, expectObject, isObject, optionalString, requiredQuery, requiredString, sendJson, type JsonObject} from "./http-json";
import type {NodeRecord} from "./registry";
import type {RequestContext} from "./rest";
import type {UserAccount} from "./users";

/** `POST login2`: `{user_name, password}` → three tokens; `{refreshtoken[, user_name]}` → new id and access tokens. */
export async function postLogin({cloud, response, body}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	const userName = optionalString(request, "user_name");
	if (typeof request.refreshtoken === "string" && request.refreshtoken !== "") {
		const tokens = cloud.users.refresh(request.refreshtoken, userName);
		sendJson(response, 200, {status: "success", description: "Login successful", ...tokens});
		return;
	}
	if (userName === undefined)
		throw new ApiError(400, "body: \"user_name\" and \"password\", or \"refreshtoken\", are required");
	const password = requiredString(request, "password");
	sendJson(response, 200, {status: "success", description: "Login successful", ...cloud.users.login(userName, password)});
}

/** `POST logout2` (`logout_all`, in the body as the SDK sends it or in the query as the CLI does, ends every session of the user). */
export async function postLogout({cloud, response, caller, rawBody, query}: RequestContext): Promise<void> {
	const text = (await rawBody()).toString("utf8").trim();
	let all = booleanQuery(query, "logout_all", false);
	if (text !== "") {
		let value: unknown;
		try {
			value = JSON.parse(text);
		} catch (error) {
			throw new ApiError(400, `request body is not valid JSON: ${(error as Error).message}`);
		}
		if (isObject(value) && typeof value.logout_all === "boolean")
			all = value.logout_all;
	}
	cloud.users.logout(caller!, all);
	sendJson(response, 200, {status: "success", description: "Logged out successfully"});
}

/** `GET user2` / `GET user`. */
export async function getUser({response, caller}: RequestContext): Promise<void> {
	const account = caller!.account;
	sendJson(response, 200, {user_id: account.userId, user_name: account.userName, super_admin: account.superAdmin, picture_url: "", name: "", mfa: false});
}

/** The ids of the user's nodes: every node the cloud has seen or that was mapped, that belongs to the user; sorted. */
export function nodeIdsOf(cloud: LocalCloud, account: UserAccount): string[] {
	const ids = new Set([...cloud.registry.all().map((node) => node.id), ...cloud.users.mappedNodes()]);
	return [...ids].filter((id) => cloud.users.owns(account, id)).sort();
}

/**
 * The node if it exists and belongs to the caller. A node of another user is answered exactly as
 * an unknown one, so the answer does not tell whether the id exists.
 */
export function ownNode(cloud: LocalCloud, account: UserAccount, nodeId: string): NodeRecord {
	const node = cloud.node(nodeId);
	if (!cloud.users.owns(account, nodeId) || (!node && !cloud.users.mappedNodes().includes(nodeId)))
		throw new ApiError(404, `node ${nodeId} not found`, ErrorCode.notFound);
	return node ?? {id: nodeId, params: {}, online: false};
}

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
		answer.node_details = ids.map((id) => {
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
	if (nextId !== undefined)
		answer.next_id = nextId;
	sendJson(response, 200, answer);
}

/** `GET user/nodes/status?node_id=`. */
export async function getNodeStatus({cloud, response, query, caller}: RequestContext): Promise<void> {
	sendJson(response, 200, connectivity(ownNode(cloud, caller!.account, requiredQuery(query, "node_id", "nodeid"))));
}

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
	sendJson(response, 200, {status: "success", request_id: requestId, description: "User node mapping request created successfully"});
}

/** `GET user/nodes/mapping?request_id=`. */
export async function getMapping({cloud, response, query, caller}: RequestContext): Promise<void> {
	const requestId = requiredQuery(query, "request_id");
	const mapping = cloud.mappingRequest(requestId);
	if (!mapping || mapping.userId !== caller!.account.userId)
		throw new ApiError(404, `mapping request ${requestId} not found`);
	sendJson(response, 200, {request_id: requestId, request_status: mapping.status});
}

export async function getApiVersions({response}: RequestContext): Promise<void> {
	sendJson(response, 200, {supported_versions: ["v1"]});
}

/** `GET mqtt_host`: the host name nodes connect to, and (local additions) the full broker URLs. */
export async function getMqttHost({cloud, response}: RequestContext): Promise<void> {
	const url = new URL(cloud.mqttsUrl ?? cloud.mqttUrl ?? "");
	sendJson(response, 200, {mqtt_host: url.hostname, mqtt_port: Number(url.port), ...(cloud.mqttUrl ? {mqtt_url: cloud.mqttUrl} : {}), ...(cloud.mqttsUrl ? {mqtts_url: cloud.mqttsUrl} : {})});
}

export function newRequestId(): string {
	return randomUUID();
}
