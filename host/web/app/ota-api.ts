/*
 * The OTA calls of the page, with the real API's paths and fields (docs/protocol.md §9.1, §9.2):
 * a job's status for a node, the cloud-side user-approval offer, and the admin's images and jobs.
 */
import {isObject, type Json, type JsonObject, type RestApi} from "./api";

export interface JobStatus {
	status: string;
	additionalInfo: string;
	/** Epoch seconds. */
	timestamp?: number;
}

/**
 * A job as `GET admin/otajob` lists it (the cloud's own record is host/cloud/jobs.ts `CloudOtaJob`;
 * the job a node receives is ota/otaurl.ts `OtaJob`).
 */
export interface ListedJob {
	id: string;
	name: string;
	imageId: string;
	nodes: string[];
	/** The cloud-side user approval option (docs/protocol.md §2.2): held until a user sends it. */
	userApproval: boolean;
	/** Epoch seconds or ms as the cloud gives it. */
	triggered?: number;
}

export interface OtaImage {
	id: string;
	name: string;
	fwVersion: string;
	model: string;
	fileSize?: number;
	uploaded?: number;
}

export interface CloudOffer {
	jobId: string;
	fwVersion?: string;
	fileSize?: number;
	description: string;
}

const str = (value: Json | undefined) => (typeof value === "string" ? value : "");
const num = (value: Json | undefined) => (typeof value === "number" ? value : undefined);

function status(entry: JsonObject): JobStatus {
	const timestamp = num(entry.timestamp);
	return {
		status: str(entry.status),
		additionalInfo: str(entry.additional_info),
		...(timestamp !== undefined ? {timestamp} : {}),
	};
}

/** `GET user/nodes/ota_status`: the node's latest report for the job. */
export async function otaStatus(api: RestApi, nodeId: string, jobId: string): Promise<JobStatus> {
	const answer = await api.call("GET", "user/nodes/ota_status", {node_id: nodeId, ota_job_id: jobId});
	return status(isObject(answer) ? answer : {});
}

/** `GET user/nodes/ota_update`: a cloud-side user-approval job waiting for this user (docs/protocol.md §2.2). */
export async function cloudOffer(api: RestApi, nodeId: string): Promise<CloudOffer | undefined> {
	const answer = await api.call("GET", "user/nodes/ota_update", {node_id: nodeId});
	if (!isObject(answer) || answer.ota_available !== true || typeof answer.ota_job_id !== "string") return undefined;
	const fileSize = num(answer.file_size);
	return {
		jobId: answer.ota_job_id,
		description: str(answer.description),
		...(typeof answer.fw_version === "string" ? {fwVersion: answer.fw_version} : {}),
		...(fileSize !== undefined ? {fileSize} : {}),
	};
}

/** `POST user/nodes/ota_update`: the cloud sends that job to the node. */
export async function releaseCloudOffer(api: RestApi, nodeId: string, jobId: string): Promise<void> {
	await api.call("POST", "user/nodes/ota_update", undefined, {ota_job_id: jobId, node_id: nodeId});
}

/** `GET admin/otajob`: every job (following `next_id`). */
export async function listJobs(api: RestApi): Promise<ListedJob[]> {
	const jobs: ListedJob[] = [];
	let startId: string | undefined;
	for (let page = 0; page < 50; page++) {
		const answer = await api.call("GET", "admin/otajob", startId ? {start_id: startId} : undefined);
		const list = isObject(answer) && Array.isArray(answer.ota_jobs) ? answer.ota_jobs.filter(isObject) : [];
		for (const entry of list) {
			const triggered = num(entry.triggered_timestamp);
			jobs.push({
				id: str(entry.ota_job_id),
				name: str(entry.ota_job_name),
				imageId: str(entry.ota_image_id),
				nodes: Array.isArray(entry.nodes)
					? entry.nodes.filter((node): node is string => typeof node === "string")
					: [],
				userApproval: entry.user_approval === true,
				...(triggered !== undefined ? {triggered} : {}),
			});
		}
		startId =
			isObject(answer) && typeof answer.next_id === "string" && answer.next_id !== ""
				? answer.next_id
				: undefined;
		if (!startId) break;
	}
	return jobs;
}

/** The admin's images and jobs as one poll read them (the node's history and the admin side share it). */
export interface Catalog {
	images: OtaImage[];
	jobs: ListedJob[];
}

export async function readCatalog(api: RestApi): Promise<Catalog> {
	const [images, jobs] = await Promise.all([listImages(api), listJobs(api)]);
	return {images, jobs};
}

/** `GET admin/otajob/status` for one node of a job. */
export async function jobStatusOf(api: RestApi, jobId: string, nodeId: string): Promise<JobStatus | undefined> {
	const answer = await api.call("GET", "admin/otajob/status", {ota_job_id: jobId, node_id: nodeId});
	const list =
		isObject(answer) && Array.isArray(answer.node_ota_status) ? answer.node_ota_status.filter(isObject) : [];
	const entry = list.find(item => item.node_id === nodeId);
	return entry ? status(entry) : undefined;
}

/** `GET admin/otaimage`: every image. */
export async function listImages(api: RestApi): Promise<OtaImage[]> {
	const answer = await api.call("GET", "admin/otaimage");
	const list = isObject(answer) && Array.isArray(answer.ota_images) ? answer.ota_images.filter(isObject) : [];
	return list.map(entry => {
		const fileSize = num(entry.file_size);
		const uploaded = num(entry.upload_timestamp);
		return {
			id: str(entry.ota_image_id),
			name: str(entry.image_name),
			fwVersion: str(entry.fw_version),
			model: str(entry.model),
			...(fileSize !== undefined ? {fileSize} : {}),
			...(uploaded !== undefined ? {uploaded} : {}),
		};
	});
}

/** `POST admin/otaimage` with the file as base64. */
export async function uploadImage(
	api: RestApi,
	name: string,
	base64: string,
): Promise<{id: string; fwVersion: string}> {
	const answer = await api.call("POST", "admin/otaimage", undefined, {image_name: name, base64_fwimage: base64});
	if (!isObject(answer) || typeof answer.ota_image_id !== "string")
		throw new Error("the cloud's answer has no ota_image_id");
	return {id: answer.ota_image_id, fwVersion: str(answer.fw_version)};
}

export interface NewJob {
	name: string;
	imageId: string;
	nodes: string[];
	userApproval: boolean;
	forcePush: boolean;
	/** A stream job (the local cloud's `stream` field, docs/local-cloud.md). */
	stream?: boolean;
}

/** `POST admin/otajob?user_approval=&force_push=`. */
export async function createJob(api: RestApi, job: NewJob): Promise<string> {
	const answer = await api.call(
		"POST",
		"admin/otajob",
		{user_approval: job.userApproval, force_push: job.forcePush},
		{ota_job_name: job.name, ota_image_id: job.imageId, nodes: job.nodes, ...(job.stream ? {stream: true} : {})},
	);
	if (!isObject(answer) || typeof answer.ota_job_id !== "string")
		throw new Error("the cloud's answer has no ota_job_id");
	return answer.ota_job_id;
}
