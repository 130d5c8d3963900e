/*
 * The REST API of the local cloud under /v1/ (docs/protocol.md §9): login and the user calls an app makes
 * (user-rest.ts and below), and the admin calls that add images and create jobs. Every user call
 * needs the access token of a `login2` session; a user reaches only their own nodes; the admin
 * calls need the first user (the super admin). Every failure is an ApiError, answered by the
 * caller as `{"status":"failure","description":...,"error_code":...}`.
 */
import type {IncomingMessage, ServerResponse} from "node:http";
import type {LocalCloud} from "./cloud";
import {
	ApiError, ErrorCode, booleanQuery, expectObject, isObject, optionalString, readBody, readJsonBody, requiredQuery, requiredString, sendJson, type JsonObject,
} from "./http-json";
import {InvalidImageError} from "./images";
import {getApiVersions, getMapping, getMqttHost, getNodeStatus, getUser, getUserNodes, ownNode, postLogin, postLogout, putMapping} from "./user-rest";
import type {Caller} from "./users";

type Handler = (context: RequestContext) => Promise<void>;

export interface RequestContext {
	cloud: LocalCloud;
	request: IncomingMessage;
	response: ServerResponse;
	query: URLSearchParams;
	/** The logged-in user; set for every route but the public ones. */
	caller?: Caller;
	/** Reads the JSON body with the route's size limit. */
	body(): Promise<unknown>;
	/** Reads the raw body with the route's size limit. */
	rawBody(): Promise<Buffer>;
}

const defaultMaxBody = 1024 * 1024;
const defaultMaxImageBody = 24 * 1024 * 1024;

type Access = "public" | "user" | "admin";
type Route = {access: Access; methods: Partial<Record<string, Handler>>};

const routes: Record<string, Route> = {
	"apiversions": {access: "public", methods: {GET: getApiVersions}},
	"mqtt_host": {access: "public", methods: {GET: getMqttHost}},
	"login2": {access: "public", methods: {POST: postLogin}},
	"logout2": {access: "user", methods: {POST: postLogout}},
	"user2": {access: "user", methods: {GET: getUser}},
	"user": {access: "user", methods: {GET: getUser}},
	"user/nodes": {access: "user", methods: {GET: getUserNodes}},
	"user/nodes/status": {access: "user", methods: {GET: getNodeStatus}},
	"user/nodes/mapping": {access: "user", methods: {GET: getMapping, PUT: putMapping}},
	"user/nodes/config": {access: "user", methods: {GET: getConfig}},
	"user/nodes/params": {access: "user", methods: {GET: getParams, PUT: putParams}},
	"user/nodes/ota_status": {access: "user", methods: {GET: getOtaStatus}},
	"user/nodes/ota_update": {access: "user", methods: {GET: getOtaUpdate, POST: postOtaUpdate}},
	"admin/otaimage": {access: "admin", methods: {GET: getOtaImages, POST: postOtaImage}},
	"admin/otajob": {access: "admin", methods: {GET: getOtaJobs, POST: postOtaJob, PUT: putOtaJob}},
	"admin/otajob/status": {access: "admin", methods: {GET: getOtaJobStatus}},
};

/** Served at the root as well as under /v1/: the CLI asks for them next to the versioned base. */
const rootRoutes = new Set(["apiversions", "mqtt_host"]);

/**
 * The route of a path. Base URLs are accepted with or without a trailing slash, so repeated
 * slashes (`http://host:8080/v1//login2`, `…/v1/user/nodes/`) are read as one.
 */
export function routeName(pathname: string): string | undefined {
	const path = pathname.replace(/\/{2,}/g, "/").replace(/^\/|\/$/g, "");
	if (path.startsWith("v1/"))
		return path.slice(3);
	return rootRoutes.has(path) ? path : undefined;
}

export async function handleRest(cloud: LocalCloud, request: IncomingMessage, response: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> {
	const name = routeName(pathname);
	const route = name !== undefined ? routes[name] : undefined;
	// A web app on another origin may call the API, as it may call the real one: the token travels
	// in the Authorization header, never in a cookie, so any origin is allowed.
	response.setHeader("Access-Control-Allow-Origin", "*");
	if (request.method === "OPTIONS" && route) {
		response.writeHead(204, {
			"Access-Control-Allow-Methods": Object.keys(route.methods).join(", "),
			"Access-Control-Allow-Headers": "Authorization, Content-Type",
			"Access-Control-Max-Age": "600",
		});
		response.end();
		return;
	}
	if (name === undefined || !route)
		throw new ApiError(404, `no such API: ${pathname}`);
	const handler = route.methods[request.method ?? ""];
	if (!handler) {
		const allow = Object.keys(route.methods).join(", ");
		throw new ApiError(405, `method ${request.method} not allowed on ${pathname} (allowed: ${allow})`, ErrorCode.methodNotAllowed, {Allow: allow});
	}
	let caller: Caller | undefined;
	if (route.access !== "public") {
		caller = cloud.users.authenticate(request.headers.authorization);
		if (route.access === "admin" && !caller.account.superAdmin)
			throw new ApiError(403, `Forbidden: ${name} is for the cloud's admin user (${cloud.users.firstUser.userName})`, ErrorCode.forbidden);
	}
	const limit = name === "admin/otaimage" ? cloud.options.maxImageBodyBytes ?? defaultMaxImageBody : cloud.options.maxBodyBytes ?? defaultMaxBody;
	await handler({
		cloud, request, response, query, ...(caller ? {caller} : {}),
		body: () => readJsonBody(request, limit),
		rawBody: () => readBody(request, limit),
	});
}

function knownNode(context: RequestContext, nodeId: string) {
	return ownNode(context.cloud, context.caller!.account, nodeId);
}

async function getConfig(context: RequestContext): Promise<void> {
	const {response, query} = context;
	const node = knownNode(context, requiredQuery(query, "node_id", "nodeid"));
	if (!node.config)
		throw new ApiError(404, `node ${node.id} has not reported its config yet`);
	sendJson(response, 200, node.config);
}

async function getParams(context: RequestContext): Promise<void> {
	const {response, query} = context;
	sendJson(response, 200, knownNode(context, requiredQuery(query, "node_id", "nodeid")).params);
}

/** Current form: an array of `{node_id, payload}`; legacy form: `?node_id=` with the payload as body (docs/protocol.md §9.1). */
async function putParams(context: RequestContext): Promise<void> {
	const {cloud, response, query, body} = context;
	const value = await body();
	if (Array.isArray(value)) {
		if (value.length === 0)
			throw new ApiError(400, "body: the array of {node_id, payload} is empty");
		const results: JsonObject[] = [];
		for (const entry of value)
			results.push(await setOne(context, entry));
		sendJson(response, 200, results);
		return;
	}
	const nodeId = query.get("node_id") ?? query.get("nodeid");
	if (!nodeId)
		throw new ApiError(400, "body must be an array of {node_id, payload}, or a params object with the node_id query parameter");
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
		if (!isObject(entry.payload))
			throw new ApiError(400, "payload must be a JSON object");
		knownNode(context, nodeId);
		await cloud.setParams(nodeId, entry.payload);
		return {node_id: nodeId, status: "success", description: "Successfully set params"};
	} catch (error) {
		if (!(error instanceof ApiError))
			throw error;
		return {node_id: nodeId ?? null, status: "failure", description: error.message};
	}
}

async function getOtaStatus(context: RequestContext): Promise<void> {
	const {cloud, response, query} = context;
	// A job's node that has not connected yet still has a status (triggered) for its owner.
	const nodeId = requiredQuery(query, "node_id");
	if (!cloud.users.owns(context.caller!.account, nodeId))
		throw new ApiError(404, `node ${nodeId} not found`);
	const jobId = requiredQuery(query, "ota_job_id");
	if (!cloud.job(jobId))
		throw new ApiError(404, `OTA job ${jobId} not found`);
	const state = cloud.jobState(nodeId, jobId);
	if (!state)
		throw new ApiError(404, `node ${nodeId} is not part of OTA job ${jobId}`);
	sendJson(response, 200, {node_id: nodeId, status: state.status, additional_info: state.additionalInfo, timestamp: state.timestamp});
}

/** The cloud-side user approval (docs/protocol.md §2.2): what a user-approval job offers this node. */
async function getOtaUpdate(context: RequestContext): Promise<void> {
	const {cloud, response, query} = context;
	const node = knownNode(context, requiredQuery(query, "node_id"));
	const job = cloud.jobStore.awaitingApproval(node.id);
	if (!job) {
		sendJson(response, 200, {status: "success", ota_available: false, description: "No OTA update available"});
		return;
	}
	const {ota_job_id, ...offer} = cloud.otaurlPayload(job);
	sendJson(response, 200, {status: "success", ota_available: true, description: `OTA update ${offer.fw_version} available (${job.name})`, ota_job_id, ...offer});
}

async function postOtaUpdate(context: RequestContext): Promise<void> {
	const {cloud, response, body} = context;
	const request = expectObject(await body(), "body");
	const nodeId = knownNode(context, requiredString(request, "node_id")).id;
	await cloud.approve(nodeId, requiredString(request, "ota_job_id"));
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

/** `GET admin/otaimage` (docs/protocol.md §9.2): the image records, newest last; `ota_image_id` picks one. */
async function getOtaImages({cloud, response, query}: RequestContext): Promise<void> {
	const imageId = query.get("ota_image_id");
	const images = cloud.images.all().filter((image) => !imageId || image.id === imageId);
	if (imageId && images.length === 0)
		throw new ApiError(404, `OTA image ${imageId} not found`);
	sendJson(response, 200, {
		ota_images: images.map((image) => ({ota_image_id: image.id, image_name: image.name, type: image.type, model: image.model,
			image_url: cloud.imageUrl(image), fw_version: image.fwVersion, upload_timestamp: image.uploadTimestamp,
			file_size: image.fileSize, file_md5: image.fileMd5})),
		total: images.length,
	});
}

/** `GET admin/otajob` (docs/protocol.md §9.2): the jobs, oldest first; `ota_job_id` picks one. */
async function getOtaJobs({cloud, response, query}: RequestContext): Promise<void> {
	const jobId = query.get("ota_job_id");
	const jobs = cloud.jobs().filter((job) => !jobId || job.id === jobId);
	if (jobId && jobs.length === 0)
		throw new ApiError(404, `OTA job ${jobId} not found`);
	sendJson(response, 200, {
		ota_jobs: jobs.map((job) => {
			const states = cloud.jobStore.statesOf(job.id);
			return {ota_job_id: job.id, ota_job_name: job.name, ota_image_id: job.imageId, nodes: job.nodes,
				triggered_timestamp: Math.floor(job.createdAt / 1000), status: job.cancelled ? "cancelled" : "active", archived: false,
				user_approval: job.userApproval, force_push: job.forcePush, ...(job.metadata ? {metadata: job.metadata} : {}),
				total_count: states.length, completed_count: states.filter((state) => state.status === "success").length,
				rejected_count: states.filter((state) => state.status === "rejected").length};
		}),
		total: jobs.length,
	});
}
