/*
 * The REST API of the local cloud under /v1/ (docs/protocol.md §9): the user calls an app makes and the admin
 * calls that add images and create jobs. Every failure is an ApiError, answered by the caller as
 * `{"status":"failure","description":...}` with the HTTP status a client can act on.
 */
import type {IncomingMessage, ServerResponse} from "node:http";
import type {LocalCloud} from "./cloud";
import {
	ApiError, booleanQuery, expectObject, isObject, optionalString, readJsonBody, requiredQuery, requiredString, sendJson, type JsonObject,
} from "./http-json";
import {InvalidImageError} from "./images";

type Handler = (context: RequestContext) => Promise<void>;

interface RequestContext {
	cloud: LocalCloud;
	request: IncomingMessage;
	response: ServerResponse;
	query: URLSearchParams;
	/** Reads the JSON body with the route's size limit. */
	body(): Promise<unknown>;
}

const defaultMaxBody = 1024 * 1024;
const defaultMaxImageBody = 24 * 1024 * 1024;

const routes: Record<string, Partial<Record<string, Handler>>> = {
	"user/nodes/config": {GET: getConfig},
	"user/nodes/params": {GET: getParams, PUT: putParams},
	"user/nodes/ota_status": {GET: getOtaStatus},
	"user/nodes/ota_update": {GET: getOtaUpdate, POST: postOtaUpdate},
	"admin/otaimage": {POST: postOtaImage},
	"admin/otajob": {POST: postOtaJob, PUT: putOtaJob},
	"admin/otajob/status": {GET: getOtaJobStatus},
};

export async function handleRest(cloud: LocalCloud, request: IncomingMessage, response: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> {
	const route = /^\/v1\/(.+?)\/?$/.exec(pathname);
	const methods = route ? routes[route[1]!] : undefined;
	if (!route || !methods)
		throw new ApiError(404, `no such API: ${pathname}`);
	const handler = methods[request.method ?? ""];
	if (!handler) {
		const allow = Object.keys(methods).join(", ");
		throw new ApiError(405, `method ${request.method} not allowed on ${pathname} (allowed: ${allow})`, {Allow: allow});
	}
	const token = cloud.options.token;
	if (token !== undefined && request.headers.authorization !== token)
		throw new ApiError(401, "Unauthorized: missing or wrong access token in the Authorization header");
	const limit = route[1] === "admin/otaimage" ? cloud.options.maxImageBodyBytes ?? defaultMaxImageBody : cloud.options.maxBodyBytes ?? defaultMaxBody;
	await handler({cloud, request, response, query, body: () => readJsonBody(request, limit)});
}

function knownNode(cloud: LocalCloud, nodeId: string) {
	const node = cloud.node(nodeId);
	if (!node)
		throw new ApiError(404, `node ${nodeId} not found`);
	return node;
}

async function getConfig({cloud, response, query}: RequestContext): Promise<void> {
	const node = knownNode(cloud, requiredQuery(query, "node_id", "nodeid"));
	if (!node.config)
		throw new ApiError(404, `node ${node.id} has not reported its config yet`);
	sendJson(response, 200, node.config);
}

async function getParams({cloud, response, query}: RequestContext): Promise<void> {
	sendJson(response, 200, knownNode(cloud, requiredQuery(query, "node_id", "nodeid")).params);
}

/** Current form: an array of `{node_id, payload}`; legacy form: `?node_id=` with the payload as body (docs/protocol.md §9.1). */
async function putParams({cloud, response, query, body}: RequestContext): Promise<void> {
	const value = await body();
	if (Array.isArray(value)) {
		if (value.length === 0)
			throw new ApiError(400, "body: the array of {node_id, payload} is empty");
		const results: JsonObject[] = [];
		for (const entry of value)
			results.push(await setOne(cloud, entry));
		sendJson(response, 200, results);
		return;
	}
	const nodeId = query.get("node_id") ?? query.get("nodeid");
	if (!nodeId)
		throw new ApiError(400, "body must be an array of {node_id, payload}, or a params object with the node_id query parameter");
	await cloud.setParams(nodeId, expectObject(value, "body"));
	sendJson(response, 200, {status: "success", description: "Successfully set params"});
}

async function setOne(cloud: LocalCloud, entry: unknown): Promise<JsonObject> {
	const nodeId = isObject(entry) && typeof entry.node_id === "string" ? entry.node_id : undefined;
	try {
		if (!isObject(entry) || nodeId === undefined || nodeId === "")
			throw new ApiError(400, "each entry must be an object with a non-empty node_id string");
		if (!isObject(entry.payload))
			throw new ApiError(400, "payload must be a JSON object");
		await cloud.setParams(nodeId, entry.payload);
		return {node_id: nodeId, status: "success", description: "Successfully set params"};
	} catch (error) {
		if (!(error instanceof ApiError))
			throw error;
		return {node_id: nodeId ?? null, status: "failure", description: error.message};
	}
}

async function getOtaStatus({cloud, response, query}: RequestContext): Promise<void> {
	const nodeId = requiredQuery(query, "node_id");
	const jobId = requiredQuery(query, "ota_job_id");
	if (!cloud.job(jobId))
		throw new ApiError(404, `OTA job ${jobId} not found`);
	const state = cloud.jobState(nodeId, jobId);
	if (!state)
		throw new ApiError(404, `node ${nodeId} is not part of OTA job ${jobId}`);
	sendJson(response, 200, {node_id: nodeId, status: state.status, additional_info: state.additionalInfo, timestamp: state.timestamp});
}

/** The cloud-side user approval (docs/protocol.md §2.2): what a user-approval job offers this node. */
async function getOtaUpdate({cloud, response, query}: RequestContext): Promise<void> {
	const node = knownNode(cloud, requiredQuery(query, "node_id"));
	const job = cloud.jobStore.awaitingApproval(node.id);
	if (!job) {
		sendJson(response, 200, {status: "success", ota_available: false, description: "No OTA update available"});
		return;
	}
	const {ota_job_id, ...offer} = cloud.otaurlPayload(job);
	sendJson(response, 200, {status: "success", ota_available: true, description: `OTA update ${offer.fw_version} available (${job.name})`, ota_job_id, ...offer});
}

async function postOtaUpdate({cloud, response, body}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	await cloud.approve(requiredString(request, "node_id"), requiredString(request, "ota_job_id"));
	sendJson(response, 200, {status: "success", description: "OTA update pushed to the node"});
}

async function postOtaImage({cloud, response, body}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	const name = requiredString(request, "image_name");
	const base64 = requiredString(request, "base64_fwimage").replace(/\s+/g, "");
	if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64))
		throw new ApiError(400, "body: \"base64_fwimage\" is not valid base64");
	const fwVersion = optionalString(request, "fw_version");
	const model = optionalString(request, "model");
	const type = optionalString(request, "type");
	try {
		const image = await cloud.addImage(Buffer.from(base64, "base64"), {
			name, ...(fwVersion ? {fwVersion} : {}), ...(model ? {model} : {}), ...(type ? {type} : {}),
		});
		sendJson(response, 200, {ota_image_id: image.id, image_url: cloud.imageUrl(image), file_size: image.fileSize, file_md5: image.fileMd5,
			fw_version: image.fwVersion, model: image.model, status: "success"});
	} catch (error) {
		if (error instanceof InvalidImageError)
			throw new ApiError(400, error.message);
		throw error;
	}
}

async function postOtaJob({cloud, response, query, body}: RequestContext): Promise<void> {
	const forcePush = booleanQuery(query, "force_push", false);
	const userApproval = booleanQuery(query, "user_approval", false);
	const request = expectObject(await body(), "body");
	const name = requiredString(request, "ota_job_name");
	const imageId = requiredString(request, "ota_image_id");
	if (Array.isArray(request.groups) && request.groups.length > 0)
		throw new ApiError(400, "body: \"groups\" are not supported by the local cloud; list the node ids in \"nodes\"");
	const nodes = request.nodes;
	if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > 100 || nodes.some((node) => typeof node !== "string" || node === ""))
		throw new ApiError(400, "body: \"nodes\" must be an array of 1..100 non-empty node id strings");
	if (request.metadata !== undefined && !isObject(request.metadata))
		throw new ApiError(400, "body: \"metadata\" must be a JSON object when given");
	const job = await cloud.createJob({
		name, imageId, nodes: nodes as string[], userApproval, forcePush,
		...(isObject(request.metadata) ? {metadata: request.metadata} : {}),
	});
	sendJson(response, 200, {ota_job_id: job.id, status: "success"});
}

/** Cancels a job (docs/protocol.md §9.2 `PUT admin/otajob`); archiving is accepted and means the same here. */
async function putOtaJob({cloud, response, body}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	cloud.cancelJob(requiredString(request, "ota_job_id"));
	sendJson(response, 200, {status: "success", description: "OTA job cancelled"});
}

async function getOtaJobStatus({cloud, response, query}: RequestContext): Promise<void> {
	const jobId = requiredQuery(query, "ota_job_id");
	if (!cloud.job(jobId))
		throw new ApiError(404, `OTA job ${jobId} not found`);
	const nodeId = query.get("node_id");
	const states = cloud.jobStore.statesOf(jobId).filter((state) => !nodeId || state.nodeId === nodeId);
	sendJson(response, 200, {
		node_ota_status: states.map((state) => ({node_id: state.nodeId, status: state.status, timestamp: state.timestamp, additional_info: state.additionalInfo})),
		total: states.length,
	});
}
